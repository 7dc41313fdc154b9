import type { DomainContext } from "../context.js";
import { AppError } from "../errors.js";
import type { StreamItem } from "./events.js";
import { BoundedQueue } from "./queue.js";
import { loadAudience, loadStreamItems } from "./stream-queries.js";

const BACKFILL_PAGE = 500;

export interface StreamOptions {
  /** Resume after this stream id (a tracked event id); absent: from now. */
  after?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Everything a user should hear, in stream order, exactly once: listen first, then backfill from
 * the database up to the position where live delivery became complete, then go live, skipping
 * what was already yielded. Throws RATE_LIMITED when the consumer falls too far behind.
 */
export async function* userStream(ctx: DomainContext, userId: string, options: StreamOptions = {}): AsyncGenerator<StreamItem> {
  const queue = new BoundedQueue<StreamItem>(ctx.limits.maxSubscriberQueue);
  const registeredAt = ctx.dispatcher.position;
  const sub = ctx.dispatcher.register(userId, queue);
  const onAbort = () => queue.close();
  options.signal?.addEventListener("abort", onAbort);
  try {
    const audience = await loadAudience(ctx.db, userId);
    const liveFrom = ctx.dispatcher.activate(sub, audience.groupIds);
    let last = options.after ?? registeredAt;
    while (last < liveFrom && !options.signal?.aborted) {
      const page = await loadStreamItems(
        ctx.db,
        { after: last, upTo: liveFrom, limit: BACKFILL_PAGE },
        { userId, groupIds: [...sub.groups], privateConversationIds: audience.privateConversationIds },
      );
      if (page.length === 0) break;
      for (const item of page) {
        last = item.id;
        yield item;
      }
    }
    last = Math.max(last, liveFrom);
    for (;;) {
      const item = await queue.next();
      if (!item) break;
      if (item.id <= last) continue;
      last = item.id;
      yield item;
    }
    if (queue.overflowed) throw new AppError("RATE_LIMITED", "subscriber too slow: reconnect with the last event id");
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    ctx.dispatcher.unregister(sub);
  }
}
