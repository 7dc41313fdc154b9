import { liveEventsInput, signalTyping, typingInput, userSignals, userStream, whenExpired } from "@omnilink/domain";
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
   * Ephemeral events, from now on, never stored or replayed: `typing` (someone in one of the
   * caller's conversations started or stopped typing; it lapses after `ttlMs` without a refresh,
   * and a message from them ends it) and `presence` (a member of one of the caller's groups came
   * online or went offline). Untracked: reconnecting simply starts again, and `groups.presence`
   * gives the current state. Counts as a subscription of the socket, and as a live connection for
   * presence.
   */
  signals: protectedProcedure.subscription(async function* ({ ctx, signal }) {
    const { socket } = ctx;
    if (socket && socket.subscriptions >= socket.maxSubscriptions) {
      throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `at most ${socket.maxSubscriptions} subscriptions per connection` });
    }
    if (socket) socket.subscriptions++;
    const expired = new AbortController();
    const cancel = ctx.expiresAt === undefined ? () => {} : whenExpired(ctx.expiresAt, () => expired.abort());
    try {
      const stop = signal ? AbortSignal.any([signal, expired.signal]) : expired.signal;
      yield* userSignals(ctx.domain, ctx.user.uuid, { signal: stop });
    } finally {
      cancel();
      if (socket) socket.subscriptions--;
    }
    if (expired.signal.aborted) throw new TRPCError({ code: "UNAUTHORIZED", message: "token expired" });
  }),

  /**
   * Tells the other participants of a conversation (`peerId`: a group, or a friend) that the
   * caller is typing (`typing: true`, refreshed every few seconds while it lasts) or stopped.
   * Allowed to whoever may send there; TOO_MANY_REQUESTS past the caller's rate.
   */
  typing: protectedProcedure.input(typingInput).mutation(({ ctx, input }) => signalTyping(ctx.domain, ctx.user.uuid, input)),
});
