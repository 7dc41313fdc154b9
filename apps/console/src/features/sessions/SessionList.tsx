import { formatTime } from "../../format";
import { Link } from "../../router";
import { errorText } from "../../trpc";
import { useSessions } from "./queries";

/** My conversations, newest activity first, kept current by the live stream. */
export function SessionList({ activePeer }: { activePeer: string | null }) {
  const sessions = useSessions();
  return (
    <section className="sessions">
      <h2>Chats</h2>
      {sessions.error && <p className="error">{errorText(sessions.error)}</p>}
      {sessions.data?.length === 0 && <p className="muted">No conversations yet.</p>}
      <ul data-testid="session-list">
        {sessions.data?.map((s) => {
          // The open conversation is being read: its count is on its way to zero.
          const unread = s.peerId === activePeer ? 0 : s.unreadCount;
          const mentions = s.peerId === activePeer ? 0 : s.mentionCount;
          return (
            <li key={s.sessionId}>
              <Link
                to={`/chat/${s.peerId}`}
                className={s.peerId === activePeer ? "session active" : "session"}
                data-testid="session-item"
                data-peer-id={s.peerId}
                data-unread={unread}
                data-mentions={mentions}
              >
                <span className="session-top">
                  <span className="session-name" data-testid="session-name">
                    {s.peerType === "G" && <span className="tag">group</span>}
                    {s.peerName}
                  </span>
                  <span className="session-time" data-testid="session-time">
                    {formatTime(s.lastMessageAt ?? s.updatedAt)}
                  </span>
                </span>
                <span className="session-bottom">
                  <span className="session-last" data-testid="session-last">
                    {s.lastMessage}
                  </span>
                  {mentions > 0 && (
                    <span className="badge mention" data-testid="mention-badge" title="unread messages that mention you">
                      @ you{mentions > 1 ? ` ×${mentions >= 99 ? "99+" : mentions}` : ""}
                    </span>
                  )}
                  {unread > 0 && (
                    <span className="badge" data-testid="unread-badge">
                      {unread}
                    </span>
                  )}
                </span>
              </Link>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
