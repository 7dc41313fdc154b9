import { sql } from "drizzle-orm";
import { check, pgTable, smallint, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, publicId, seqColumn, ts } from "./columns.js";

export const ConversationKind = { private: 0, group: 1 } as const;

/**
 * One row per conversation: a group (id = group uuid) or a pair of users (id = "<low>:<high>").
 * `last_seq` is bumped in the send transaction; unread = last_seq - session.read_seq, so a send
 * writes this row and the message row whatever the group size.
 */
export const conversations = pgTable(
  "conversation",
  {
    id: varchar("id", { length: 64 }).primaryKey(),
    kind: smallint("kind").notNull(),
    lastSeq: seqColumn("last_seq").notNull().default(0),
    lastMessageId: publicId("last_message_id"),
    /** Preview text: the content of a text message, `[多媒体消息]` otherwise. */
    lastMessage: text("last_message").notNull().default(""),
    lastMessageAt: ts("last_message_at"),
    createdAt: createdAt(),
  },
  (t) => [
    check("conversation_kind_check", sql`${t.kind} in (0, 1)`),
    check("conversation_last_seq_check", sql`${t.lastSeq} >= 0`),
  ],
);
