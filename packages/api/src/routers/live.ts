import { liveEventsInput, receiptUpdates, userStream, whenExpired } from "@omnilink/domain";
import { TRPCError, tracked } from "@trpc/server";
import { protectedProcedure, router } from "../trpc.js";

export const liveRouter = router({
  /**
   * Everything the caller should hear: messages of every conversation they are in, membership,
   * approval and friend events. Each event's id is its stream id; a client that reconnects with
   * `lastEventId` receives exactly what it missed, in order, once.
   *
   * Over a WebSocket, a connection holds at most `socket.maxSubscriptions` of these (one more is
   * refused, the others go on), and each ends with UNAUTHORIZED when the token it was opened with
   * expires: a socket must not keep listening on a token that would no longer be accepted.
   */
  events: protectedProcedure
    .input(liveEventsInput)
    .subscription(async function* ({ ctx, input, signal }) {
      const { socket } = ctx;
      if (socket && socket.subscriptions >= socket.maxSubscriptions) {
        throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `at most ${socket.maxSubscriptions} subscriptions per connection` });
      }
      if (socket) socket.subscriptions++;
      const expired = new AbortController();
      const cancel = ctx.expiresAt === undefined ? () => {} : whenExpired(ctx.expiresAt, () => expired.abort());
      try {
        const after = input?.lastEventId ? Number(input.lastEventId) : undefined;
        const stop = signal ? AbortSignal.any([signal, expired.signal]) : expired.signal;
        for await (const item of userStream(ctx.domain, ctx.user.uuid, { after, signal: stop })) {
          yield tracked(String(item.id), item);
        }
      } finally {
        cancel();
        if (socket) socket.subscriptions--;
      }
      if (expired.signal.aborted) throw new TRPCError({ code: "UNAUTHORIZED", message: "token expired" });
    }),
  /**
   * Read receipts, live and ephemeral: `receipt.updated` { conversationId, peerId, fromSeq,
   * upToSeq } at most once per conversation per RECEIPT_INTERVAL_MS, the last one after a burst
   * always. Group updates need `events` on the same connection (its membership index says who is
   * in the group); a missed update is made good by asking `messages.receipts` / `readCounts`.
   * Counts against the socket's subscriptions and ends with UNAUTHORIZED at the token's expiry.
   */
  receipts: protectedProcedure.subscription(async function* ({ ctx, signal }) {
    const { socket } = ctx;
    if (socket && socket.subscriptions >= socket.maxSubscriptions) {
      throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `at most ${socket.maxSubscriptions} subscriptions per connection` });
    }
    if (socket) socket.subscriptions++;
    const expired = new AbortController();
    const cancel = ctx.expiresAt === undefined ? () => {} : whenExpired(ctx.expiresAt, () => expired.abort());
    try {
      const stop = signal ? AbortSignal.any([signal, expired.signal]) : expired.signal;
      yield* receiptUpdates(ctx.domain, ctx.user.uuid, stop);
    } finally {
      cancel();
      if (socket) socket.subscriptions--;
    }
    if (expired.signal.aborted) throw new TRPCError({ code: "UNAUTHORIZED", message: "token expired" });
  }),
});
