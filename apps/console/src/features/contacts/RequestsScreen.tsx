import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatTime } from "../../format";
import { errorText, useTRPC, type Outputs } from "../../trpc";
import { usePending } from "./queries";

type PendingRequest = Outputs["contacts"]["pending"][number];

/** Friend requests to me and join requests for groups I own or administer; new ones appear live. */
export function RequestsScreen() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const pending = usePending();
  // A decision changes the requests, and may add a friend, a member and a session.
  const refresh = () => {
    for (const queryKey of [trpc.contacts.pending.queryKey(), trpc.contacts.friends.queryKey(), trpc.sessions.list.queryKey(), trpc.groups.members.queryKey()]) {
      void queryClient.invalidateQueries({ queryKey });
    }
  };
  const approve = useMutation(trpc.contacts.approve.mutationOptions({ onSettled: refresh }));
  const reject = useMutation(trpc.contacts.reject.mutationOptions({ onSettled: refresh }));
  /** The last decision: whom, and which way (its outcome is shown below the list). */
  const [last, setLast] = useState<{ name: string; approve: boolean } | null>(null);
  const decision = last?.approve ? approve : reject;
  const busy = approve.isPending || reject.isPending;

  const decide = (item: PendingRequest, yes: boolean) => {
    setLast({ name: item.nickname || item.username, approve: yes });
    (yes ? approve : reject).mutate({ applyId: item.applyId });
  };

  return (
    <section className="panel" data-testid="requests-screen">
      <h2>Requests</h2>
      {pending.error && <p className="error">{errorText(pending.error)}</p>}
      {pending.data?.length === 0 && (
        <p className="muted" data-testid="requests-empty">
          Nothing waiting.
        </p>
      )}
      <ul className="list">
        {pending.data?.map((r) => (
          <li key={r.applyId} data-testid="pending-request" data-kind={r.kind} data-apply-id={r.applyId} data-user-id={r.userId} data-group-id={r.groupId ?? ""}>
            <span>
              <strong>{r.nickname || r.username}</strong> <span className="muted">@{r.username}</span>{" "}
              {r.kind === "friend" ? (
                "wants to be your friend"
              ) : (
                <>
                  wants to join <strong>{r.groupName}</strong> <code>{r.groupId}</code>
                </>
              )}
              {r.message && <span className="muted"> — “{r.message}”</span>}
              <span className="muted"> {formatTime(r.lastApplyAt)}</span>
            </span>
            <span className="actions">
              <button type="button" className="primary" data-testid="request-approve" disabled={busy} onClick={() => decide(r, true)}>
                Approve
              </button>
              <button type="button" data-testid="request-reject" disabled={busy} onClick={() => decide(r, false)}>
                Reject
              </button>
            </span>
          </li>
        ))}
      </ul>
      {last && decision.isSuccess && (
        <p className="ok" data-testid="requests-result">
          {last.approve ? "Approved" : "Rejected"}: {last.name}
        </p>
      )}
      {decision.error && (
        <p className="error" role="alert" data-testid="requests-error">
          {errorText(decision.error)}
        </p>
      )}
    </section>
  );
}
