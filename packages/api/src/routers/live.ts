import { liveEventsInput, userStream } from "@omnilink/domain";
import { tracked } from "@trpc/server";
import { protectedProcedure, router } from "../trpc.js";

export const liveRouter = router({
  /**
   * Everything the caller should hear: messages of every conversation they are in, membership,
   * approval and friend events. Each event's id is its stream id; a client that reconnects with
   * `lastEventId` receives exactly what it missed, in order, once.
   */
  events: protectedProcedure
    .input(liveEventsInput)
    .subscription(async function* ({ ctx, input, signal }) {
      const after = input?.lastEventId ? Number(input.lastEventId) : undefined;
      for await (const item of userStream(ctx.domain, ctx.user.uuid, { after, signal })) {
        yield tracked(String(item.id), item);
      }
    }),
});
