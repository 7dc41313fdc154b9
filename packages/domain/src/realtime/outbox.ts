import { streamEvents, type Tx } from "@omnilink/db";
import type { DomainContext } from "../context.js";
import type { EventPayloads, EventType, MessageView, StreamEventOf, StreamEventView, StreamItem } from "./events.js";

/**
 * Collects what a transaction adds to the live stream. Rows get their ids from event_stream_seq
 * when inserted; their order in the stream is decided after commit, by a tick (see Ticker), so
 * nothing here serialises transactions.
 */
export class Outbox {
  readonly items: StreamItem[] = [];

  constructor(private readonly tx: Tx) {}

  /** Writes an event row (same transaction as the change) and queues it for publication. */
  async event<T extends EventType>(
    type: T,
    audience: { groupId?: string | null; userIds?: string[] },
    payload: EventPayloads[T],
  ): Promise<void> {
    const [row] = await this.tx
      .insert(streamEvents)
      .values({ type, groupId: audience.groupId ?? null, userIds: [...new Set(audience.userIds ?? [])], payload })
      .returning({ id: streamEvents.id, groupId: streamEvents.groupId, userIds: streamEvents.userIds, createdAt: streamEvents.createdAt });
    if (!row) throw new Error("stream_event insert returned no row");
    const event: StreamEventOf<T> = { id: row.id, type, groupId: row.groupId, userIds: row.userIds, payload, createdAt: row.createdAt };
    // `type` and `payload` are paired by T, so this is one member of the union; TypeScript cannot
    // narrow a generic T to it. (Events read back are checked by parseStreamEvent instead.)
    this.items.push({ kind: "event", id: event.id, event: event as StreamEventView, pos: 0 });
  }

  message(message: MessageView): void {
    this.items.push({ kind: "message", id: message.id, message, pos: 0 });
  }
}

/**
 * Runs `fn` in a transaction; once the commit has succeeded, publishes what it queued (without
 * waiting for the bus, see EventBus.publish) and asks for a tick to order it. A node the bus does
 * not reach finds the rows and the tick in the database.
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
      ctx.bus.publish({ items });
    } catch (error) {
      ctx.log.warn({ err: error }, "event bus publish failed");
    }
    void ctx.ticker.kick();
  }
  return result;
}
