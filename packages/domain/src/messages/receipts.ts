import { ContactType, contacts, groups, messages, sessions, users } from "@omnilink/db";
import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { activeMembershipRow, isNormalGroup, mayReadGroup, privateRefusal } from "../access.js";
import type { DomainContext } from "../context.js";
import { forbidden, notFound } from "../errors.js";
import { isGroupId } from "../ids.js";
import type { ReadCountsInput, ReceiptsInput } from "./schemas.js";

/*
 * Read receipts are computed from read positions: a member has read seq s iff their session's
 * read_seq >= s. Nothing is written per reader or per message. Only the sender may ask (as in
 * WeCom or DingTalk: the author of a group message sees who has read it, the others do not), and
 * in a group only while an active member. Counted: the group's active members now, the sender
 * excluded. A member who joined after the message starts with read_seq at the group's last seq
 * at joining, so they count as having read it.
 */

export interface Reader {
  userId: string;
  name: string;
}

export interface Receipts {
  messageId: string;
  conversationId: string;
  seq: number;
  readCount: number;
  unreadCount: number;
  /** At most `limit` of each, by name. */
  readers: Reader[];
  unread: Reader[];
  /** True when a list holds fewer members than its count. */
  truncated: boolean;
}

const NOT_SENDER = "只有发送者可以查看已读状态";

/** The message, if the caller sent it and may still read its conversation; throws otherwise. */
async function ownMessage(ctx: DomainContext, userId: string, messageId: string) {
  const [m] = await ctx.db
    .select({ uuid: messages.uuid, conversationId: messages.conversationId, seq: messages.seq, sendId: messages.sendId, receiveId: messages.receiveId })
    .from(messages)
    .where(eq(messages.uuid, messageId));
  if (!m) throw notFound("消息不存在");
  if (m.sendId !== userId) throw forbidden(NOT_SENDER);
  if (isGroupId(m.receiveId)) await requireActiveMember(ctx, userId, m.receiveId);
  else {
    const [f] = await ctx.db
      .select({ status: contacts.status })
      .from(contacts)
      .where(and(eq(contacts.userId, userId), eq(contacts.contactId, m.receiveId), eq(contacts.contactType, ContactType.user)));
    const refusal = privateRefusal(f?.status, "read");
    if (refusal) throw refusal;
  }
  return m;
}

async function requireActiveMember(ctx: DomainContext, userId: string, groupId: string): Promise<void> {
  const [g] = await ctx.db
    .select({ status: contacts.status, groupStatus: groups.status })
    .from(contacts)
    .innerJoin(groups, eq(groups.uuid, contacts.contactId))
    .where(and(eq(contacts.userId, userId), eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group)));
  if (!g || !mayReadGroup(g.status) || !isNormalGroup({ status: g.groupStatus })) throw forbidden("非群成员");
}

/** Every member whose read position counts for a message of `senderId`, with that position (at most a group's size). */
async function positions(ctx: DomainContext, conversationId: string, peerId: string, senderId: string) {
  const name = sql<string>`coalesce(nullif(${users.nickname}, ''), ${users.username})`;
  if (!isGroupId(peerId)) {
    return ctx.db
      .select({ userId: users.uuid, name, readSeq: sql<number>`coalesce(${sessions.readSeq}, 0)`.mapWith(Number) })
      .from(users)
      .leftJoin(sessions, and(eq(sessions.sendId, users.uuid), eq(sessions.conversationId, conversationId)))
      .where(eq(users.uuid, peerId));
  }
  return ctx.db
    .select({ userId: contacts.userId, name, readSeq: sql<number>`coalesce(${sessions.readSeq}, 0)`.mapWith(Number) })
    .from(contacts)
    .innerJoin(users, eq(users.uuid, contacts.userId))
    .leftJoin(sessions, and(eq(sessions.sendId, contacts.userId), eq(sessions.conversationId, conversationId)))
    .where(and(eq(contacts.contactId, peerId), activeMembershipRow(), ne(contacts.userId, senderId)))
    .orderBy(asc(name), asc(contacts.userId));
}

/** Who has and who has not read one of the caller's messages (group or private). */
export async function getReceipts(ctx: DomainContext, userId: string, input: ReceiptsInput): Promise<Receipts> {
  const m = await ownMessage(ctx, userId, input.messageId);
  const rows = await positions(ctx, m.conversationId, m.receiveId, userId);
  const readers: Reader[] = [];
  const unread: Reader[] = [];
  for (const r of rows) (r.readSeq >= m.seq ? readers : unread).push({ userId: r.userId, name: r.name });
  return {
    messageId: m.uuid,
    conversationId: m.conversationId,
    seq: m.seq,
    readCount: readers.length,
    unreadCount: unread.length,
    readers: readers.slice(0, input.limit),
    unread: unread.slice(0, input.limit),
    truncated: readers.length > input.limit || unread.length > input.limit,
  };
}

/**
 * For the caller's own messages among `seqs` in a group: how many members have read each, and
 * how many could (the active members but the caller). One read of the members' positions, sorted
 * once, answers every seq.
 */
export async function getReadCounts(ctx: DomainContext, userId: string, input: ReadCountsInput): Promise<{ members: number; counts: Array<{ seq: number; readCount: number }> }> {
  if (!isGroupId(input.peerId)) throw forbidden("只有群消息有已读人数");
  await requireActiveMember(ctx, userId, input.peerId);
  const seqs = [...new Set(input.seqs)];
  const own =
    seqs.length === 0
      ? []
      : await ctx.db
          .select({ seq: messages.seq })
          .from(messages)
          .where(and(eq(messages.conversationId, input.peerId), inArray(messages.seq, seqs), eq(messages.sendId, userId)))
          .orderBy(asc(messages.seq));
  const rows = await positions(ctx, input.peerId, input.peerId, userId);
  const sorted = rows.map((r) => r.readSeq).sort((a, b) => a - b);
  // Members with read_seq >= s: those from the first position >= s to the end.
  const atLeast = (s: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] ?? 0) >= s) hi = mid;
      else lo = mid + 1;
    }
    return sorted.length - lo;
  };
  return { members: sorted.length, counts: own.map((o) => ({ seq: o.seq, readCount: atLeast(o.seq) })) };
}
