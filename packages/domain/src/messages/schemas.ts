import { z } from "zod";
import type { MessageView } from "../realtime/events.js";
import { MAX_CONTENT_UNITS, optionalIdText, publicIdText, storableText } from "../text.js";

const id = publicIdText();

export const sendMessageInput = z.object({
  /** A user id (private) or a group id (G…). */
  receiveId: id,
  /** 0 text, 1 voice/image, 2 file, 3 call. */
  type: z.number().int().min(0).max(3).default(0),
  /** Its size in bytes is bounded by Limits.maxMessageBytes (checked by sendMessage). */
  content: storableText(MAX_CONTENT_UNITS).default(""),
  url: storableText(1024).default(""),
  fileType: storableText(255).default(""),
  fileName: storableText(255).default(""),
  fileSize: storableText(32).default(""),
  mentionedUserIds: z.array(publicIdText()).max(200).default([]),
  mentionAll: z.boolean().default(false),
  /** Sender-chosen id: a retry with the same one returns the original message. */
  clientMsgId: storableText(64, { trim: true, min: 1 }).optional(),
  /** Legacy private path: when set it must be the sender's session with the peer. */
  sessionId: optionalIdText().default(""),
});
export type SendMessageInput = z.infer<typeof sendMessageInput>;

export const historyInput = z
  .object({
    peerId: id,
    /** Messages with a smaller seq (scrolling up). */
    beforeSeq: z.number().int().positive().optional(),
    /**
     * beforeSeq under the name infinite-query clients page with (the console's useInfiniteQuery
     * sends each page's cursor as `cursor`); null or absent: the newest page.
     */
    cursor: z.number().int().positive().nullish(),
    /** Messages with a larger seq (catching up). */
    afterSeq: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(200).default(50),
  })
  .refine((v) => [v.beforeSeq, v.cursor ?? undefined, v.afterSeq].filter((x) => x !== undefined).length <= 1, "beforeSeq、cursor 与 afterSeq 只能给一个")
  .transform(({ cursor, ...rest }) => (cursor == null ? rest : { ...rest, beforeSeq: cursor }));
export type HistoryInput = z.infer<typeof historyInput>;

/** The legacy offset form; out-of-range values are clamped as the old server did. */
export const historyPageInput = z.object({
  peerId: id,
  page: z.number().int().catch(1).default(1),
  pageSize: z.number().int().catch(20).default(20),
});
export type HistoryPageInput = z.infer<typeof historyPageInput>;

/** Read receipts of one of the caller's messages; each list holds at most `limit` members. */
export const receiptsInput = z.object({
  messageId: id,
  limit: z.number().int().min(1).max(2000).default(200),
});
export type ReceiptsInput = z.infer<typeof receiptsInput>;

/** How many have read each of the caller's messages at these seqs in a group (the "read by N" of a page). */
export const readCountsInput = z.object({
  peerId: id,
  seqs: z.array(z.number().int().positive()).max(200),
});
export type ReadCountsInput = z.infer<typeof readCountsInput>;
export const recallMessageInput = z.object({
  /** The message's uuid (M…). */
  messageId: id,
});
export type RecallMessageInput = z.infer<typeof recallMessageInput>;

/** Longest search text, in UTF-16 units after trimming: bounds the pattern the database matches. */
export const MAX_SEARCH_QUERY = 100;
/** Most results one search page returns. */
export const MAX_SEARCH_LIMIT = 50;

export const searchMessagesInput = z.object({
  /** Matched as a substring of the text, case-insensitively (no wildcards: % _ \ are literal). */
  query: storableText(MAX_SEARCH_QUERY, { trim: true, min: 1, tooShort: "请输入搜索内容", tooLong: `搜索内容最多 ${MAX_SEARCH_QUERY} 个字符` }),
  /** One conversation (a user id for a private chat, a group id); every readable one when absent. */
  peerId: id.optional(),
  /** Only messages older than this one (its stream id, `nextBeforeId` of the previous page). */
  beforeId: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT).default(20),
});
export type SearchMessagesInput = z.infer<typeof searchMessagesInput>;

/** What a send resolves to, once committed. */
export interface SendResult {
  message: MessageView;
  /** True when clientMsgId matched an earlier send: nothing new was written or published. */
  duplicate: boolean;
}
