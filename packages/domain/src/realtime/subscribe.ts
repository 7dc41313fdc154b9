import type { DomainContext } from "../context.js";
import { AppError } from "../errors.js";
import type { EphemeralEvent } from "./ephemeral.js";
import { Entitlement, membershipAt } from "./entitlement.js";
import type { StreamItem } from "./events.js";
import { BoundedQueue } from "./queue.js";
import { loadStreamItems, positionOfRow } from "./stream-queries.js";

/** Rows read per backfill query (before the audience filter). */
const BACKFILL_PAGE = 2000;

export interface StreamOptions {
  /** Resume after the item with this id (a tracked event id); absent or unknown: from now. */
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
export function userStream(ctx: DomainContext, userId: string, options: StreamOptions = {}): AsyncGenerator<StreamItem> {
  return liveStream(ctx, userId, options, false) as AsyncGenerator<StreamItem>;
}

/**
 * The ephemeral events a user should hear, from now on: typing in their conversations, presence
 * changes of the members of their groups, and read receipts in their conversations. They have
 * no stream position, are not replayed, and are decided by the same per-node membership view as
 * the stream (no backfill is needed: nothing of the past is owed).
 */
export function userSignals(ctx: DomainContext, userId: string, options: Omit<StreamOptions, "after"> = {}): AsyncGenerator<EphemeralEvent> {
  return liveStream(ctx, userId, options, true) as AsyncGenerator<EphemeralEvent>;
}

const isStreamItem = (item: StreamItem | EphemeralEvent): item is StreamItem => "pos" in item;

/**
 * Stream items (`ephemeral` false) or ephemeral events only (true). Either is a live connection:
 * the user counts as online (presence) from the moment the subscription hears its groups until
 * it ends.
 */
async function* liveStream(ctx: DomainContext, userId: string, options: StreamOptions, ephemeral: boolean): AsyncGenerator<StreamItem | EphemeralEvent> {
  const queue = new BoundedQueue<StreamItem | EphemeralEvent>(ctx.limits.maxSubscriberQueue);
  // Registered before the first await: nothing handed out after this call is missed. "From now"
  // is the dispatcher's position: rows committed just before the call but not ordered yet are
  // still news to this subscriber. Every membership change dispatched from here on is recorded
  // by the dispatcher until activate() replays it.
  const registeredAt = ctx.dispatcher.position;
  const sink = ephemeral ? { push: () => {}, signal: (event: EphemeralEvent) => queue.push(event) } : queue;
  const sub = ctx.dispatcher.register(userId, sink);
  const stopReceipts = ephemeral ? ctx.receipts.listen(userId, (update) => queue.push(update)) : undefined;
  let online = false;
  const onAbort = () => queue.close();
  options.signal?.addEventListener("abort", onAbort);
  try {
    const now = await membershipAt(ctx.db, userId, registeredAt);
    const liveFrom = ctx.dispatcher.activate(sub, [...now.groups]);
    ctx.presence.connected(userId);
    online = true;
    // A resume cursor is an item id; the stream is walked by position.
    const resumeAt = options.after === undefined ? undefined : await positionOfRow(ctx.db, options.after);
    let last = resumeAt ?? registeredAt;
    if (!ephemeral && last < liveFrom && !options.signal?.aborted) {
      const start = last === registeredAt ? now : await membershipAt(ctx.db, userId, last);
      const entitlement = new Entitlement(userId, new Set(start.groups));
      // Any group the user belonged to at some point of the range.
      const groupIds = [...new Set([...start.groups, ...start.changedSince, ...sub.groups])];
      const audience = { userId, groupIds, privateConversationIds: start.privateConversationIds };
      while (last < liveFrom && !options.signal?.aborted) {
        const page = await loadStreamItems(ctx.db, { after: last, upTo: liveFrom, maxIds: BACKFILL_PAGE }, audience);
        for (const item of page.items) if (entitlement.admits(item)) yield item;
        if (page.scannedTo <= last) break;
        last = page.scannedTo;
      }
    }
    last = Math.max(last, liveFrom);
    for (;;) {
      const item = await queue.next();
      if (!item) break;
      if (!isStreamItem(item)) {
        yield item;
        continue;
      }
      if (item.pos <= last) continue;
      last = item.pos;
      yield item;
    }
    if (queue.overflowed) throw new AppError("RATE_LIMITED", "subscriber too slow: reconnect with the last event id");
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    if (online) ctx.presence.disconnected(userId);
    stopReceipts?.();
    ctx.dispatcher.unregister(sub);
  }
}
