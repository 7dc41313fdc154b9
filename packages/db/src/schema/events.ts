import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, publicId, snapshot, writerTx, xid8 } from "./columns.js";

/**
 * Membership, approval and friend events of the live stream, written in the same transaction as
 * the change they describe. `id` shares event_stream_seq with messages, so one cursor orders both.
 * Audience: the active members of `group_id` (when set) plus every id in `user_ids`.
 */
export const streamEvents = pgTable(
  "stream_event",
  {
    id: bigint("id", { mode: "number" })
      .primaryKey()
      .default(sql`nextval('event_stream_seq')`),
    type: varchar("type", { length: 40 }).notNull(),
    groupId: publicId("group_id"),
    userIds: text("user_ids").array().notNull().default(sql`'{}'::text[]`),
    payload: jsonb("payload").notNull().$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    tx: writerTx(),
  },
  (t) => [index("stream_event_group_id_idx").on(t.groupId, t.id), index("stream_event_tx_idx").on(t.tx)],
);

/**
 * The order of the live stream, decided after commit. Each tick records a snapshot of the
 * database and the stream rows (messages and events, by id, ascending) that it sees and the
 * previous tick did not: the rows committed in between. Ticks are written one at a time (each
 * locks the previous one), so their snapshots only grow, and a row belongs to exactly one tick.
 * A row's stream position is (tick, its rank in item_ids).
 */
export const streamTicks = pgTable(
  "stream_tick",
  {
    tick: bigint("tick", { mode: "number" }).primaryKey(),
    snap: snapshot("snap").notNull(),
    /** The snapshot's xmax: a row whose tx is at or above it is not in this tick or any before. */
    xmax: xid8("snap_xmax").notNull(),
    itemIds: bigint("item_ids", { mode: "number" }).array().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("stream_tick_xmax_idx").on(t.xmax, t.tick)],
);
