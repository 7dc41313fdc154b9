import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorText, type PendingRequest } from "../api";
import { useConsole } from "../context";
import { formatTime } from "../format";
import { usePending } from "../queries";

/** Friend requests to me and join requests for groups I own; new ones appear live. */
export function RequestsScreen() {
  const { api } = useConsole();
  const queryClient = useQueryClient();
  const pending = usePending();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);

  const decide = async (item: PendingRequest, approve: boolean) => {
    setBusy(item.applyId);
    setError(null);
    setResult(null);
    try {
      if (approve) await api.contacts.approve.mutate({ applyId: item.applyId });
      else await api.contacts.reject.mutate({ applyId: item.applyId });
      setResult(`${approve ? "Approved" : "Rejected"}: ${item.nickname || item.username}`);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
      void queryClient.invalidateQueries();
    }
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
              <button type="button" className="primary" data-testid="request-approve" disabled={busy !== null} onClick={() => void decide(r, true)}>
                Approve
              </button>
              <button type="button" data-testid="request-reject" disabled={busy !== null} onClick={() => void decide(r, false)}>
                Reject
              </button>
            </span>
          </li>
        ))}
      </ul>
      {result && (
        <p className="ok" data-testid="requests-result">
          {result}
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="requests-error">
          {error}
        </p>
      )}
    </section>
  );
}
