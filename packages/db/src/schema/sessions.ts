import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, unique, varchar } from "drizzle-orm/pg-core";
import { createdAt, DEFAULT_AVATAR, publicId, seqColumn, ts } from "./columns.js";
import { conversations } from "./conversations.js";
import { users } from "./users.js";

/**
 * `session`: one row per viewer per conversation (send_id = the viewer, receive_id = peer or group).
 * `read_seq` is the viewer's read position; it only moves forward. `hidden_seq` hides the session
 * (delete) until the conversation's last_seq passes it, so a new message brings it back.
 */
export const sessions = pgTable(
  "session",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    uuid: publicId("uuid").notNull().unique("session_uuid_key"),
    sendId: publicId("send_id")
      .notNull()
      .references(() => users.uuid, { onDelete: "cascade" }),
    receiveId: publicId("receive_id").notNull(),
    conversationId: varchar("conversation_id", { length: 64 })
      .notNull()
      .references(() => conversations.id),
    /** Snapshot of the peer's name and avatar when the session was made. */
    receiveName: varchar("receive_name", { length: 64 }).notNull().default(""),
    avatar: varchar("avatar", { length: 255 }).notNull().default(DEFAULT_AVATAR),
    readSeq: seqColumn("read_seq").notNull().default(0),
    hiddenSeq: seqColumn("hidden_seq"),
    createdAt: createdAt(),
    /** The viewer's own last activity on this session (opened, read, sent). */
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    unique("session_send_receive_key").on(t.sendId, t.receiveId),
    index("session_send_id_updated_at_idx").on(t.sendId, t.updatedAt),
    index("session_conversation_id_idx").on(t.conversationId),
    check("session_read_seq_check", sql`${t.readSeq} >= 0`),
  ],
);
