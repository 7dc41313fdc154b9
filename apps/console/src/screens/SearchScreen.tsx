import { useState, type FormEvent } from "react";
import { errorText, type Outputs } from "../api";
import { useConsole } from "../context";
import { formatTime } from "../format";
import { useFriends, useSessions } from "../queries";
import { navigate } from "../router";

type SearchPage = Outputs["messages"]["search"];
type Hit = SearchPage["items"][number];

/**
 * Message search: one conversation (`peerId`) or all of mine. Results are newest first; a result
 * opens its conversation. "More" fetches the next page (beforeId).
 */
export function SearchBox({ peerId }: { peerId?: string }) {
  const { api } = useConsole();
  const sessions = useSessions();
  const friends = useFriends();
  const [query, setQuery] = useState("");
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [asked, setAsked] = useState("");

  const nameOf = (peer: string) => sessions.data?.find((s) => s.peerId === peer)?.peerName ?? friends.data?.find((f) => f.userId === peer)?.name ?? peer;

  const run = async (text: string, beforeId?: number) => {
    setBusy(true);
    setError(null);
    try {
      const page = await api.messages.search.query({ query: text, ...(peerId ? { peerId } : {}), ...(beforeId ? { beforeId } : {}), limit: 20 });
      setHits((old) => (beforeId && old ? [...old, ...page.items] : page.items));
      setNext(page.nextBeforeId);
      setAsked(text);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (query.trim()) void run(query.trim());
  };

  return (
    <div className="search" data-testid="search" data-scope={peerId ? "conversation" : "all"}>
      <form className="composer" onSubmit={submit}>
        <input
          data-testid="search-input"
          value={query}
          maxLength={100}
          placeholder={peerId ? "Search this conversation" : "Search all conversations"}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="submit" className="primary" data-testid="search-submit" disabled={busy || !query.trim()}>
          Search
        </button>
      </form>
      {error && (
        <p className="error" role="alert" data-testid="search-error">
          {error}
        </p>
      )}
      {hits && (
        <ul className="search-results" data-testid="search-results">
          {hits.length === 0 && (
            <li className="muted" data-testid="search-empty">
              Nothing found for “{asked}”
            </li>
          )}
          {hits.map((h) => (
            <li key={h.message.uuid}>
              <button
                type="button"
                className="search-hit"
                data-testid="search-hit"
                data-peer-id={h.peerId}
                data-seq={h.message.seq}
                onClick={() => navigate(`/chat/${encodeURIComponent(h.peerId)}`)}
              >
                <span className="message-meta">
                  <span data-testid="search-hit-peer">
                    {h.peerType === "group" && <span className="tag">group</span>}
                    {nameOf(h.peerId)}
                  </span>
                  <span>{h.message.sendName}</span>
                  <time dateTime={h.message.createdAt.toISOString()}>{formatTime(h.message.createdAt)}</time>
                  <span className="muted">#{h.message.seq}</span>
                </span>
                <span className="search-snippet" data-testid="search-hit-snippet">
                  {h.snippet}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {next !== null && (
        <button type="button" data-testid="search-more" disabled={busy} onClick={() => void run(asked, next)}>
          More results
        </button>
      )}
    </div>
  );
}

/** The "Search" tab: every conversation of mine. */
export function SearchScreen() {
  return (
    <section className="panel" data-testid="search-screen">
      <h2>Search messages</h2>
      <SearchBox />
    </section>
  );
}
