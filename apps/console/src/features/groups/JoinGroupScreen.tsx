import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorText, useTRPC } from "../../trpc";

/** Ask to join a group by its id; the owner (or an admin) approves or rejects. */
export function JoinGroupScreen() {
  const trpc = useTRPC();
  const [groupId, setGroupId] = useState("");
  const [message, setMessage] = useState("");
  const join = useMutation(trpc.groups.requestJoin.mutationOptions());

  const submit = (event: FormEvent) => {
    event.preventDefault();
    join.mutate({ groupId: groupId.trim(), message });
  };

  return (
    <section className="panel" data-testid="join-group-screen">
      <h2>Join a group</h2>
      <form className="inline-form" onSubmit={submit}>
        <input data-testid="join-group-id" placeholder="Group id (G…)" value={groupId} onChange={(e) => setGroupId(e.target.value)} required />
        <input data-testid="join-group-message" placeholder="Message (optional)" value={message} onChange={(e) => setMessage(e.target.value)} />
        <button type="submit" className="primary" data-testid="join-group-submit" disabled={join.isPending}>
          Request to join
        </button>
      </form>
      {join.isSuccess && (
        <p className="ok" data-testid="join-group-result">
          Request sent: waiting for the owner of {join.variables.groupId}
        </p>
      )}
      {join.error && (
        <p className="error" role="alert" data-testid="join-group-error">
          {errorText(join.error)}
        </p>
      )}
    </section>
  );
}
