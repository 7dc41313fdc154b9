import type { InfiniteData, QueryClient } from "@tanstack/react-query";
import type { Outputs, Trpc } from "../../trpc";

/** Messages per history page. */
const PAGE = 30;

type HistoryPage = Outputs["messages"]["history"];
export type Message = HistoryPage["items"][number];
type History = InfiniteData<HistoryPage, unknown> | undefined;

/**
 * A conversation's history as one infinite query: the first page is the newest, each next page
 * the one before it (cursor: the oldest seq held, sent as `cursor`, i.e. beforeSeq). The live
 * stream keeps it current by writing into it (addMessages, recallInCache, setPeerRead below), so
 * it never goes stale by itself; features/live refetches it when the stream starts without a
 * resume point.
 */
export function historyOptions(trpc: Trpc, peerId: string) {
  return trpc.messages.history.infiniteQueryOptions(
    { peerId, limit: PAGE },
    {
      initialCursor: null,
      getNextPageParam: (oldest) => (oldest.hasMore ? oldest.items[0]?.seq : undefined),
      staleTime: Infinity,
    },
  );
}

function historyKey(trpc: Trpc, peerId: string) {
  return trpc.messages.history.infiniteQueryKey({ peerId, limit: PAGE });
}

/** The messages held, oldest first. */
export function messagesOf(data: History): Message[] {
  return data ? [...data.pages].reverse().flatMap((page) => page.items) : [];
}

/** Private chats: how far the peer has read, as the newest word on it says; null when unknown. */
export function peerReadSeqOf(data: History): number | null {
  const seqs = data?.pages.map((page) => page.peerReadSeq).filter((seq) => seq !== null) ?? [];
  return seqs.length ? Math.max(...seqs) : null;
}

/**
 * Applies `change` to the cached history of `peerId`, if it is held, and again after every fetch
 * of it in flight: a fetch started before the change would otherwise put back what it read. The
 * changes are idempotent (messages by uuid, positions only forward), so twice is harmless.
 */
function update(queryClient: QueryClient, trpc: Trpc, peerId: string, change: (pages: HistoryPage[]) => HistoryPage[] | null) {
  const queryKey = historyKey(trpc, peerId);
  const apply = () =>
    queryClient.setQueryData(queryKey, (data) => {
      if (!data) return data;
      const pages = change(data.pages);
      return pages ? { ...data, pages } : data;
    });
  const query = queryClient.getQueryCache().find({ queryKey, exact: true });
  const settle = () => {
    apply();
    const inFlight = query?.state.fetchStatus === "fetching" ? query.promise : undefined;
    // After the fetch has stored what it read (the next task, to be sure).
    const later = () => setTimeout(settle, 0);
    inFlight?.then(later, later);
  };
  settle();
}

/**
 * Adds messages (the send's answer, the live stream) to the newest page, each once by uuid, in seq
 * order. A recalled copy replaces one that is not.
 */
export function addMessages(queryClient: QueryClient, trpc: Trpc, peerId: string, incoming: readonly Message[]): void {
  update(queryClient, trpc, peerId, (pages) => {
    const held = new Map(pages.flatMap((page) => page.items).map((m) => [m.uuid, m]));
    const fresh = incoming.filter((m) => !held.has(m.uuid));
    const recalled = new Map(incoming.filter((m) => m.recalledAt && held.get(m.uuid)?.recalledAt === null).map((m) => [m.uuid, m]));
    if (fresh.length === 0 && recalled.size === 0) return null;
    return pages.map((page, index) => {
      const items = page.items.map((m) => recalled.get(m.uuid) ?? m);
      return index === 0 ? { ...page, items: [...items, ...fresh].sort((a, b) => a.seq - b.seq) } : { ...page, items };
    });
  });
}

/**
 * A `message.recalled` event: the held copy is marked recalled, in place, and its text and
 * attachment dropped (ChatView shows the marker and nothing else of a recalled message; the
 * server has erased the rest, which a refetch then brings).
 */
export function recallInCache(queryClient: QueryClient, trpc: Trpc, peerId: string, recall: { messageId: string; at: Date; by: string }): void {
  update(queryClient, trpc, peerId, (pages) => {
    const held = pages.flatMap((page) => page.items).find((m) => m.uuid === recall.messageId);
    if (!held || held.recalledAt) return null;
    const erased: Message = { ...held, content: "", url: "", recalledAt: recall.at, recalledBy: recall.by };
    return pages.map((page) => ({ ...page, items: page.items.map((m) => (m.uuid === recall.messageId ? erased : m)) }));
  });
}

/** Private chats: the peer has read up to `seq` (a receipt, or their own message); only forward. */
export function setPeerRead(queryClient: QueryClient, trpc: Trpc, peerId: string, seq: number): void {
  update(queryClient, trpc, peerId, (pages) => {
    const newest = pages[0];
    const known = peerReadSeqOf({ pages, pageParams: [] });
    if (!newest || (known !== null && known >= seq)) return null;
    return [{ ...newest, peerReadSeq: seq }, ...pages.slice(1)];
  });
}
