import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorText } from "../api";
import { useConsole } from "../context";
import { keys, useFriends, usePending } from "../queries";
import { Link, navigate } from "../router";

/** My friends (open a private chat), and a friend request by user id. */
export function FriendsScreen() {
  const { api, me } = useConsole();
  const queryClient = useQueryClient();
  const friends = useFriends();
  const waiting = usePending().data?.filter((r) => r.kind === "friend").length ?? 0;
  const [targetId, setTargetId] = useState("");
  const [message, setMessage] = useState("");
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const request = async (event: FormEvent) => {
    event.preventDefault();
    setResult(null);
    setError(null);
    try {
      await api.contacts.request.mutate({ contactId: targetId.trim(), message });
      setResult(`Request sent to ${targetId.trim()}`);
      setTargetId("");
      setMessage("");
    } catch (e) {
      setError(errorText(e));
    }
  };

  const openChat = async (peerId: string) => {
    setError(null);
    try {
      await api.sessions.open.mutate({ peerId });
      void queryClient.invalidateQueries({ queryKey: keys.sessions });
      navigate(`/chat/${peerId}`);
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section className="panel" data-testid="friends-screen">
      <h2>Friends</h2>
      <p className="muted">
        Your id: <code>{me.uuid}</code>
      </p>
      <form className="inline-form" onSubmit={(e) => void request(e)}>
        <input data-testid="friend-id-input" placeholder="User id (U…)" value={targetId} onChange={(e) => setTargetId(e.target.value)} required />
        <input data-testid="friend-message-input" placeholder="Message (optional)" value={message} onChange={(e) => setMessage(e.target.value)} />
        <button type="submit" className="primary" data-testid="friend-request-submit">
          Send friend request
        </button>
      </form>
      {result && (
        <p className="ok" data-testid="friend-request-result">
          {result}
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="friends-error">
          {error}
        </p>
      )}
      {waiting > 0 && (
        <p className="notice">
          {waiting} friend request{waiting > 1 ? "s" : ""} waiting for you: <Link to="/requests">accept or reject</Link>
        </p>
      )}
      {friends.error && <p className="error">{errorText(friends.error)}</p>}
      {friends.data?.length === 0 && <p className="muted">No friends yet.</p>}
      <ul className="list">
        {friends.data?.map((f) => (
          <li key={f.userId} data-testid="friend-item" data-user-id={f.userId}>
            <span>
              <strong>{f.name}</strong> <span className="muted">@{f.username}</span> <code>{f.userId}</code>
            </span>
            <button type="button" data-testid="friend-chat" onClick={() => void openChat(f.userId)}>
              Chat
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
