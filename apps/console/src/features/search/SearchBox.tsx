import { useQueries, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { formatTime } from "../../format";
import { navigate } from "../../router";
import { errorText, useTRPC } from "../../trpc";
import { usePeerName } from "../sessions/queries";

/**
 * Message search: one conversation (`peerId`) or all of mine. Results are newest first; a result
 * opens its conversation. Each "More" asks for the page before the last one held (beforeId): one
 * query per page, shown one after the other.
 */
export function SearchBox({ peerId }: { peerId?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const nameOf = usePeerName();
  const [query, setQuery] = useState("");
  /** What was asked, and the cursors of the pages shown (undefined: the newest). */
  const [asked, setAsked] = useState<{ text: string; cursors: (number | undefined)[] } | null>(null);
  const pages = useQueries({
    queries: (asked?.cursors ?? []).map((beforeId) =>
      trpc.messages.search.queryOptions({ query: asked?.text ?? "", ...(peerId ? { peerId } : {}), ...(beforeId ? { beforeId } : {}), limit: 20 }, { staleTime: Infinity }),
    ),
  });
  const loaded = pages[0]?.isSuccess === true;
  const hits = pages.flatMap((page) => page.data?.items ?? []);
  // Known once the last page has come.
  const next = pages.at(-1)?.data?.nextBeforeId ?? null;
  const busy = pages.some((page) => page.isFetching);
  const error = pages.find((page) => page.error)?.error;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const text = query.trim();
    if (!text) return;
    // Asking again asks the server again.
    void queryClient.invalidateQueries({ queryKey: trpc.messages.search.queryKey() });
    setAsked({ text, cursors: [undefined] });
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
          {errorText(error)}
        </p>
      )}
      {asked && loaded && (
        <ul className="search-results" data-testid="search-results">
          {hits.length === 0 && (
            <li className="muted" data-testid="search-empty">
              Nothing found for “{asked.text}”
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
      {asked && next !== null && (
        <button type="button" data-testid="search-more" disabled={busy} onClick={() => setAsked({ ...asked, cursors: [...asked.cursors, next] })}>
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

