import { ContactType, contacts, conversations, messages, sessions } from "@omnilink/db";
import { and, asc, desc, eq, gt, lt, lte } from "drizzle-orm";
import { mayReadGroup, privateRefusal } from "../access.js";
import type { DomainContext } from "../context.js";
import { badRequest, forbidden } from "../errors.js";
import { isGroupId, privateConversationId } from "../ids.js";
import type { MessageView } from "../realtime/events.js";
import { messageViewColumns } from "../realtime/stream-queries.js";
import type { HistoryInput, HistoryPageInput } from "./schemas.js";

export interface HistoryPage {
  /** Oldest first. */
  items: MessageView[];
  /** More messages exist beyond this page in the direction asked. */
  hasMore: boolean;
  /** The conversation's newest seq, so a client can tell what it is missing. */
  lastSeq: number;
  /**
   * Private conversations: how far the peer has read (their read_seq), so the caller's own
   * messages up to it show as read; null for groups (see messages.receipts / readCounts).
   */
  peerReadSeq: number | null;
}

/** Who may read a conversation's history (and search it); throws with the legacy texts otherwise. Returns its id. */
export async function authorizeHistory(ctx: DomainContext, userId: string, peerId: string): Promise<string> {
  if (isGroupId(peerId)) {
    const [m] = await ctx.db
      .select({ status: contacts.status })
      .from(contacts)
      .where(and(eq(contacts.userId, userId), eq(contacts.contactId, peerId), eq(contacts.contactType, ContactType.group)));
    if (!m) throw forbidden("非群成员，无权查看消息");
    // Muted members (5) still read; left, kicked and dismissed do not.
    if (!mayReadGroup(m.status)) throw forbidden("非正常群成员状态");
    return peerId;
  }
  if (peerId === userId) throw badRequest("不能查询与自己的私聊记录");
  const [f] = await ctx.db
    .select({ status: contacts.status })
    .from(contacts)
    .where(and(eq(contacts.userId, userId), eq(contacts.contactId, peerId), eq(contacts.contactType, ContactType.user)));
  const refusal = privateRefusal(f?.status, "read");
  if (refusal) throw refusal;
  return privateConversationId(userId, peerId);
}

/** The peer's read position in a private conversation (read receipts); null for a group. */
async function peerReadSeqOf(ctx: DomainContext, peerId: string, conversationId: string): Promise<number | null> {
  if (isGroupId(peerId)) return null;
  const [s] = await ctx.db
    .select({ readSeq: sessions.readSeq })
    .from(sessions)
    .where(and(eq(sessions.sendId, peerId), eq(sessions.conversationId, conversationId)));
  return s?.readSeq ?? 0;
}

async function lastSeqOf(ctx: DomainContext, conversationId: string): Promise<number> {
  const [c] = await ctx.db.select({ lastSeq: conversations.lastSeq }).from(conversations).where(eq(conversations.id, conversationId));
  return c?.lastSeq ?? 0;
}

/** Cursor paging by seq: each page is one index range scan, whatever its depth. */
export async function listHistory(ctx: DomainContext, userId: string, input: HistoryInput): Promise<HistoryPage> {
  const conversationId = await authorizeHistory(ctx, userId, input.peerId);
  const [lastSeq, peerReadSeq] = await Promise.all([lastSeqOf(ctx, conversationId), peerReadSeqOf(ctx, input.peerId, conversationId)]);
  const inConversation = eq(messages.conversationId, conversationId);
  if (input.afterSeq !== undefined) {
    const rows = await ctx.db
      .select(messageViewColumns)
      .from(messages)
      .where(and(inConversation, gt(messages.seq, input.afterSeq)))
      .orderBy(asc(messages.seq))
      .limit(input.limit + 1);
    return { items: rows.slice(0, input.limit), hasMore: rows.length > input.limit, lastSeq, peerReadSeq };
  }
  const rows = await ctx.db
    .select(messageViewColumns)
    .from(messages)
    .where(and(inConversation, input.beforeSeq !== undefined ? lt(messages.seq, input.beforeSeq) : undefined))
    .orderBy(desc(messages.seq))
    .limit(input.limit + 1);
  return { items: rows.slice(0, input.limit).reverse(), hasMore: rows.length > input.limit, lastSeq, peerReadSeq };
}

/**
 * The legacy page/page_size form: newest-first pages, each returned oldest-first. Seqs are dense
 * (1..last_seq, no deletes), so page N is the seq range below last_seq - (N-1)*size: an index
 * range scan instead of an OFFSET that reads and discards every row above it.
 */
export async function listHistoryPage(ctx: DomainContext, userId: string, input: HistoryPageInput): Promise<MessageView[]> {
  const conversationId = await authorizeHistory(ctx, userId, input.peerId);
  const page = input.page <= 0 ? 1 : input.page;
  const size = input.pageSize <= 0 ? 20 : Math.min(input.pageSize, 200);
  const upper = (await lastSeqOf(ctx, conversationId)) - (page - 1) * size;
  if (upper <= 0) return [];
  return ctx.db
    .select(messageViewColumns)
    .from(messages)
    .where(and(eq(messages.conversationId, conversationId), lte(messages.seq, upper), gt(messages.seq, upper - size)))
    .orderBy(asc(messages.seq));
}
