import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { errorText, useTRPC } from "../../trpc";

/** Who has read one of my messages, and who has not (sender only; capped lists; refreshed by features/live). */
export function ReceiptList({ messageId }: { messageId: string }) {
  const trpc = useTRPC();
  const receipts = useQuery(trpc.messages.receipts.queryOptions({ messageId, limit: 100 }, { placeholderData: keepPreviousData }));
  const r = receipts.data;
  if (receipts.error) return <p className="error">{errorText(receipts.error)}</p>;
  if (!r) return null;
  return (
    <div className="receipt-list" data-testid="receipt-list">
      <div>
        <strong>Read ({r.readCount})</strong>
        <ul data-testid="receipt-readers">
          {r.readers.map((u) => (
            <li key={u.userId} data-user-id={u.userId}>
              {u.name}
            </li>
          ))}
        </ul>
      </div>
      <div>
        <strong>Unread ({r.unreadCount})</strong>
        <ul data-testid="receipt-unread">
          {r.unread.map((u) => (
            <li key={u.userId} data-user-id={u.userId}>
              {u.name}
            </li>
          ))}
        </ul>
      </div>
      {r.truncated && <p className="muted">…</p>}
    </div>
  );
}
