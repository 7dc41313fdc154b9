import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, publicId } from "./columns.js";

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
  },
  (t) => [index("stream_event_group_id_idx").on(t.groupId, t.id)],
);
