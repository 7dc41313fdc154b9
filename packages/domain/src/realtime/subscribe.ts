import type { DomainContext } from "../context.js";
import { AppError } from "../errors.js";
import { Entitlement, membershipAt } from "./entitlement.js";
import type { StreamItem } from "./events.js";
import { BoundedQueue } from "./queue.js";
import { loadStreamItems } from "./stream-queries.js";

const BACKFILL_PAGE = 500;

export interface StreamOptions {
  /** Resume after this stream id (a tracked event id); absent: from now. */
  after?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Everything a user should hear, in stream order, exactly once: listen first, then backfill from
 * the database up to the position where live delivery became complete, then go live, skipping
 * what was already yielded. The backfill starts from the user's membership as it was at the
 * resume point and follows the membership events it passes (see Entitlement), so a resume across
 * a leave, a kick or a re-join yields exactly what the user was entitled to at each point.
 * Throws RATE_LIMITED when the consumer falls too far behind.
 */
export async function* userStream(ctx: DomainContext, userId: string, options: StreamOptions = {}): AsyncGenerator<StreamItem> {
  const queue = new BoundedQueue<StreamItem>(ctx.limits.maxSubscriberQueue);
  // Everything up to here was dispatched before the subscriber existed; every membership change
  // dispatched after it is recorded by the dispatcher until activate() replays it.
  const registeredAt = ctx.dispatcher.position;
  const sub = ctx.dispatcher.register(userId, queue);
  const onAbort = () => queue.close();
  options.signal?.addEventListener("abort", onAbort);
  try {
    const now = await membershipAt(ctx.db, userId, registeredAt);
    const liveFrom = ctx.dispatcher.activate(sub, [...now.groups]);
    let last = options.after ?? registeredAt;
    if (last < liveFrom && !options.signal?.aborted) {
      const start = last === registeredAt ? now : await membershipAt(ctx.db, userId, last);
      const entitlement = new Entitlement(userId, new Set(start.groups));
      // Any group the user belonged to at some point of the range.
      const groupIds = [...new Set([...start.groups, ...start.changedSince, ...sub.groups])];
      const audience = { userId, groupIds, privateConversationIds: start.privateConversationIds };
      while (last < liveFrom && !options.signal?.aborted) {
        const page = await loadStreamItems(ctx.db, { after: last, upTo: liveFrom, limit: BACKFILL_PAGE }, audience);
        if (page.length === 0) break;
        for (const item of page) {
          last = item.id;
          if (entitlement.admits(item)) yield item;
        }
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
