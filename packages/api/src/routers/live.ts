import { liveEventsInput, signalTyping, typingInput, userSignals, userStream, whenExpired } from "@omnilink/domain";
import { TRPCError, tracked } from "@trpc/server";
import { protectedProcedure, router, type ApiContext } from "../trpc.js";

/**
 * What every live subscription shares. Over a WebSocket, a connection holds at most
 * `socket.maxSubscriptions` subscriptions (one more is refused, the others go on), and each ends
 * with UNAUTHORIZED when the token it was opened with expires: a socket must not keep listening on
 * a token that would no longer be accepted. `source` gets the signal that ends it.
 */
async function* bounded<T>(ctx: ApiContext, signal: AbortSignal | undefined, source: (stop: AbortSignal) => AsyncIterable<T>): AsyncGenerator<T> {
  const { socket } = ctx;
  if (socket && socket.subscriptions >= socket.maxSubscriptions) {
    throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `at most ${socket.maxSubscriptions} subscriptions per connection` });
  }
  if (socket) socket.subscriptions++;
  const expired = new AbortController();
  const cancel = ctx.expiresAt === undefined ? () => {} : whenExpired(ctx.expiresAt, () => expired.abort());
  try {
    yield* source(signal ? AbortSignal.any([signal, expired.signal]) : expired.signal);
  } finally {
    cancel();
    if (socket) socket.subscriptions--;
  }
  if (expired.signal.aborted) throw new TRPCError({ code: "UNAUTHORIZED", message: "token expired" });
}

export const liveRouter = router({
  /**
   * Everything the caller should hear: messages of every conversation they are in, membership,
   * approval and friend events. Each event's id is its stream id; a client that reconnects with
   * `lastEventId` receives exactly what it missed, in order, once.
   */
  events: protectedProcedure.input(liveEventsInput).subscription(async function* ({ ctx, input, signal }) {
    const after = input?.lastEventId ? Number(input.lastEventId) : undefined;
    for await (const item of bounded(ctx, signal, (stop) => userStream(ctx.domain, ctx.user.uuid, { after, signal: stop }))) {
      yield tracked(String(item.id), item);
    }
  }),

  /**
   * Ephemeral events, from now on, never stored or replayed, told apart by `kind`:
   * - `typing`: someone in one of the caller's conversations started or stopped typing; it lapses
   *   after `ttlMs` without a refresh, and a message from them ends it;
   * - `presence`: a member of one of the caller's groups came online or went offline;
   * - `receipt`: read positions moved in one of the caller's conversations ({ conversationId,
   *   peerId, fromSeq, upToSeq }), at most once per conversation per RECEIPT_INTERVAL_MS, the
   *   last one after a burst always.
   * Untracked: reconnecting simply starts again; `groups.presence`, `messages.receipts` and
   * `messages.readCounts` give the current state. Counts as a live connection for presence.
   */
  signals: protectedProcedure.subscription(({ ctx, signal }) => bounded(ctx, signal, (stop) => userSignals(ctx.domain, ctx.user.uuid, { signal: stop }))),

  /**
   * Tells the other participants of a conversation (`peerId`: a group, or a friend) that the
   * caller is typing (`typing: true`, refreshed every few seconds while it lasts) or stopped.
   * Allowed to whoever may send there; TOO_MANY_REQUESTS past the caller's rate.
   */
  typing: protectedProcedure.input(typingInput).mutation(({ ctx, input }) => signalTyping(ctx.domain, ctx.user.uuid, input)),
});
