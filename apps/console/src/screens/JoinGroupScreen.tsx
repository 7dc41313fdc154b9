import { useState, type FormEvent } from "react";
import { errorText } from "../api";
import { useConsole } from "../context";

/** Ask to join a group by its id; the owner approves or rejects. */
export function JoinGroupScreen() {
  const { api } = useConsole();
  const [groupId, setGroupId] = useState("");
  const [message, setMessage] = useState("");
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setResult(null);
    setError(null);
    try {
      await api.groups.requestJoin.mutate({ groupId: groupId.trim(), message });
      setResult(`Request sent: waiting for the owner of ${groupId.trim()}`);
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section className="panel" data-testid="join-group-screen">
      <h2>Join a group</h2>
      <form className="inline-form" onSubmit={(e) => void submit(e)}>
        <input data-testid="join-group-id" placeholder="Group id (G…)" value={groupId} onChange={(e) => setGroupId(e.target.value)} required />
        <input data-testid="join-group-message" placeholder="Message (optional)" value={message} onChange={(e) => setMessage(e.target.value)} />
        <button type="submit" className="primary" data-testid="join-group-submit">
          Request to join
        </button>
      </form>
      {result && (
        <p className="ok" data-testid="join-group-result">
          {result}
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="join-group-error">
          {error}
        </p>
      )}
    </section>
  );
}
