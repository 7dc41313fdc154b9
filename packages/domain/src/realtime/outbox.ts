import { streamEvents, type Tx } from "@omnilink/db";
import { sql } from "drizzle-orm";
import type { DomainContext } from "../context.js";
import type { EventPayloads, EventType, MessageView, StreamEventView, StreamItem } from "./events.js";

/** Arbitrary constant naming the advisory lock that orders the event stream. */
const STREAM_LOCK_KEY = 7_284_113_001;

/**
 * Collects what a transaction adds to the live stream. Stream ids come from one sequence taken
 * under a transaction-scoped advisory lock, so they are handed out in commit order: whoever sees
 * id N committed knows every id below N is settled. Take it LAST, after every row lock, and keep
 * what follows short: it is held until commit.
 */
export class Outbox {
  readonly items: StreamItem[] = [];
  private locked = false;

  constructor(private readonly tx: Tx) {}

  /** Call right before inserting a row whose id comes from event_stream_seq. */
  async lockStream(): Promise<void> {
    if (this.locked) return;
    await this.tx.execute(sql`select pg_advisory_xact_lock(${STREAM_LOCK_KEY})`);
    this.locked = true;
  }

  /** Writes an event row (same transaction as the change) and queues it for publication. */
  async event<T extends EventType>(
    type: T,
    audience: { groupId?: string | null; userIds?: string[] },
    payload: EventPayloads[T],
  ): Promise<StreamEventView<T>> {
    // Issued together with the lock (see lockStream), so the insert runs as soon as it is granted.
    const [, [row]] = await Promise.all([
      this.lockStream(),
      this.tx
        .insert(streamEvents)
        .values({ type, groupId: audience.groupId ?? null, userIds: [...new Set(audience.userIds ?? [])], payload })
        .returning(),
    ]);
    if (!row) throw new Error("stream_event insert returned no row");
    const event: StreamEventView<T> = { id: row.id, type, groupId: row.groupId, userIds: row.userIds, payload, createdAt: row.createdAt };
    this.items.push({ kind: "event", id: event.id, event: event });
    return event;
  }

  message(message: MessageView): void {
    this.items.push({ kind: "message", id: message.id, message });
  }
}

/**
 * Runs `fn` in a transaction and publishes what it queued once the commit has succeeded, without
 * waiting for the bus (see EventBus.publish): the change is committed, and a node the bus does
 * not reach finds it in the database.
 */
export async function transact<T>(ctx: DomainContext, fn: (tx: Tx, outbox: Outbox) => Promise<T>): Promise<T> {
  const outboxes: Outbox[] = [];
  const result = await ctx.db.transaction(async (tx) => {
    const outbox = new Outbox(tx);
    outboxes.push(outbox);
    return fn(tx, outbox);
  });
  const items = outboxes.flatMap((o) => o.items);
  if (items.length > 0) {
    try {
      ctx.bus.publish(items);
    } catch (error) {
      ctx.log.warn({ err: error }, "event bus publish failed");
    }
  }
  return result;
}
