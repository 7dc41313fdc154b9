import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, navigate } from "../../router";
import { errorText, useTRPC } from "../../trpc";
import { useMe } from "../auth/me";
import { useFriends, usePending } from "./queries";

/** My friends (open a private chat), and a friend request by user id. */
export function FriendsScreen() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { user: me } = useMe();
  const friends = useFriends();
  const waiting = usePending().data?.filter((r) => r.kind === "friend").length ?? 0;
  const [targetId, setTargetId] = useState("");
  const [message, setMessage] = useState("");
  const request = useMutation(
    trpc.contacts.request.mutationOptions({
      onSuccess: () => {
        setTargetId("");
        setMessage("");
      },
    }),
  );
  // A private chat starts with a session (the legacy rule).
  const open = useMutation(
    trpc.sessions.open.mutationOptions({
      onSuccess: (_session, { peerId }) => {
        void queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() });
        navigate(`/chat/${peerId}`);
      },
    }),
  );
  // One error line for both actions: the later one's.
  const error = request.error ?? open.error;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    open.reset();
    request.mutate({ contactId: targetId.trim(), message });
  };
  const openChat = (peerId: string) => {
    request.reset();
    open.mutate({ peerId });
  };

  return (
    <section className="panel" data-testid="friends-screen">
      <h2>Friends</h2>
      <p className="muted">
        Your id: <code>{me.uuid}</code>
      </p>
      <form className="inline-form" onSubmit={submit}>
        <input data-testid="friend-id-input" placeholder="User id (U…)" value={targetId} onChange={(e) => setTargetId(e.target.value)} required />
        <input data-testid="friend-message-input" placeholder="Message (optional)" value={message} onChange={(e) => setMessage(e.target.value)} />
        <button type="submit" className="primary" data-testid="friend-request-submit" disabled={request.isPending}>
          Send friend request
        </button>
      </form>
      {request.isSuccess && (
        <p className="ok" data-testid="friend-request-result">
          Request sent to {request.variables.contactId}
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="friends-error">
          {errorText(error)}
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
            <button type="button" data-testid="friend-chat" disabled={open.isPending} onClick={() => openChat(f.userId)}>
              Chat
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
