import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  pgSequence,
  pgTable,
  smallint,
  text,
  unique,
  varchar,
} from "drizzle-orm/pg-core";
import { createdAt, publicId, seqColumn, ts, writerTx } from "./columns.js";
import { conversations } from "./conversations.js";
import { users } from "./users.js";

/**
 * One sequence orders everything the live stream delivers (messages now, membership events later).
 * Senders take it inside their transaction, so its values follow commit order; a subscriber's
 * resume cursor is a position in it.
 */
export const eventStreamSeq = pgSequence("event_stream_seq", { startWith: 1, increment: 1 });

export const MessageType = { text: 0, voice: 1, file: 2, call: 3 } as const;

/** `message`: one row per message, whatever the group size. */
export const messages = pgTable(
  "message",
  {
    /** Position in the event stream (see eventStreamSeq). */
    id: bigint("id", { mode: "number" })
      .primaryKey()
      .default(sql`nextval('event_stream_seq')`),
    uuid: publicId("uuid").notNull().unique("message_uuid_key"),
    conversationId: varchar("conversation_id", { length: 64 })
      .notNull()
      .references(() => conversations.id),
    seq: seqColumn("seq").notNull(),
    /** Legacy: the sender's session uuid for private messages, "" for group messages. */
    sessionId: varchar("session_id", { length: 20 }).notNull().default(""),
    type: smallint("type").notNull().default(MessageType.text),
    content: text("content").notNull().default(""),
    url: varchar("url", { length: 1024 }).notNull().default(""),
    sendId: publicId("send_id")
      .notNull()
      .references(() => users.uuid),
    sendName: varchar("send_name", { length: 64 }).notNull().default(""),
    sendAvatar: varchar("send_avatar", { length: 255 }).notNull().default(""),
    /** The peer user or the group. */
    receiveId: publicId("receive_id").notNull(),
    fileType: varchar("file_type", { length: 255 }).notNull().default(""),
    fileName: varchar("file_name", { length: 255 }).notNull().default(""),
    fileSize: varchar("file_size", { length: 32 }).notNull().default(""),
    mentionedUserIds: text("mentioned_user_ids").array().notNull().default(sql`'{}'::text[]`),
    mentionAll: boolean("mention_all").notNull().default(false),
    status: smallint("status").notNull().default(1),
    /**
     * Set when the message was recalled: its content, url, file fields and mentions are erased in
     * the same update, and every read path shows a marker in its place.
     */
    recalledAt: ts("recalled_at"),
    recalledBy: publicId("recalled_by"),
    /** Sender-chosen id that makes a retried send return the original message. */
    clientMsgId: varchar("client_msg_id", { length: 64 }),
    createdAt: createdAt(),
    tx: writerTx(),
  },
  (t) => [
    unique("message_conversation_seq_key").on(t.conversationId, t.seq),
    unique("message_sender_client_msg_key").on(t.sendId, t.conversationId, t.clientMsgId),
    index("message_receive_id_created_at_idx").on(t.receiveId, t.createdAt),
    index("message_session_id_created_at_idx").on(t.sessionId, t.createdAt),
    // Resume: "this user's conversations, after stream id X" without scanning other conversations.
    index("message_conversation_id_id_idx").on(t.conversationId, t.id),
    // A tick finds the rows committed since the previous one from their writing transactions.
    index("message_tx_idx").on(t.tx),
    // Unread mentions: only messages that mention someone, by conversation and seq.
    index("message_mention_idx")
      .on(t.conversationId, t.seq)
      .where(sql`${t.mentionAll} or cardinality(${t.mentionedUserIds}) > 0`),
    // Search: trigrams of the text (pg_trgm, created by the migration), for ILIKE '%…%'.
    index("message_content_trgm_idx").using("gin", sql`${t.content} gin_trgm_ops`),
    check("message_seq_check", sql`${t.seq} > 0`),
    check("message_type_check", sql`${t.type} between 0 and 3`),
  ],
);
