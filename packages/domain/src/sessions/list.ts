import { ContactType, contacts, conversations, groups, messages, sessions, users } from "@omnilink/db";
import { and, desc, eq, gt, isNull, like, not, or, sql, type SQL } from "drizzle-orm";
import { activeMembershipRow, normalGroupRow } from "../access.js";
import type { DomainContext } from "../context.js";
import type { ListSessionsInput } from "./schemas.js";

export interface SessionItem {
  sessionId: string;
  peerId: string;
  peerType: "U" | "G";
  /** The group's or user's current name (falling back to the snapshot taken at creation). */
  peerName: string;
  peerAvatar: string;
  lastMessage: string;
  lastMessageAt: Date | null;
  /** Last activity: the last message's time, else when the session was created. */
  updatedAt: Date;
  lastSeq: number;
  readSeq: number;
  unreadCount: number;
  /**
   * Unread messages of this group that mention the viewer (by id or @all), not their own and not
   * recalled; at most MAX_MENTION_COUNT (which then reads "that many or more"). 0 for private sessions.
   */
  mentionCount: number;
}

/** The most unread mentions a session item counts: the count is a bounded index range scan. */
export const MAX_MENTION_COUNT = 99;

/**
 * The viewer's unread mentions in the session's conversation: the messages after read_seq that
 * mention them or everyone, read through message_mention_idx (conversation_id, seq) — its
 * predicate is repeated so the planner can use the partial index — so only mentioning messages
 * are visited, at most MAX_MENTION_COUNT of them. Nothing is written per mentioned member.
 */
function unreadMentions(userId: string) {
  const m = messages;
  const mentions = sql`(${m.mentionAll} or cardinality(${m.mentionedUserIds}) > 0)`;
  return sql<number>`case when ${isGroupPeer} then (
    select count(*) from (
      select 1 from ${m}
      where ${m.conversationId} = ${sessions.conversationId}
        and ${m.seq} > ${sessions.readSeq}
        and ${mentions}
        and (${m.mentionAll} or ${userId} = any(${m.mentionedUserIds}))
        and ${m.sendId} <> ${userId}
        and ${m.recalledAt} is null
      limit ${MAX_MENTION_COUNT}
    ) as mentioning
  ) else 0 end`.mapWith(Number);
}

const isGroupPeer = like(sessions.receiveId, "G%");

/**
 * The viewer's sessions with unread = last_seq − read_seq, newest activity first, in one query.
 * Group sessions show only while the viewer is an active member of a normal group; hidden
 * sessions come back once the conversation moves past the point they were hidden at.
 */
export async function listSessions(ctx: DomainContext, userId: string, input: ListSessionsInput = { kind: "all" }, extra?: SQL): Promise<SessionItem[]> {
  const rows = await sessionListQuery(ctx, userId, input, extra);
  return rows.map(
    (r): SessionItem => ({
      sessionId: r.sessionId,
      peerId: r.peerId,
      peerType: r.peerId.startsWith("G") ? "G" : "U",
      peerName: r.groupName ?? (r.nickname || r.username || r.snapshotName),
      peerAvatar: r.groupAvatar ?? r.userAvatar ?? r.snapshotAvatar,
      lastMessage: r.lastMessage,
      lastMessageAt: r.lastMessageAt,
      updatedAt: r.lastMessageAt ?? r.createdAt,
      lastSeq: r.lastSeq,
      readSeq: r.readSeq,
      unreadCount: Math.max(0, r.lastSeq - r.readSeq),
      mentionCount: r.mentionCount,
    }),
  );
}

/** The session list's one query (exported so a test can EXPLAIN it). */
export function sessionListQuery(ctx: DomainContext, userId: string, input: ListSessionsInput = { kind: "all" }, extra?: SQL) {
  const activity = sql<Date>`coalesce(${conversations.lastMessageAt}, ${sessions.createdAt})`;
  return ctx.db
    .select({
      sessionId: sessions.uuid,
      peerId: sessions.receiveId,
      snapshotName: sessions.receiveName,
      snapshotAvatar: sessions.avatar,
      readSeq: sessions.readSeq,
      createdAt: sessions.createdAt,
      lastSeq: conversations.lastSeq,
      lastMessage: conversations.lastMessage,
      lastMessageAt: conversations.lastMessageAt,
      groupName: groups.name,
      groupAvatar: groups.avatar,
      nickname: users.nickname,
      username: users.username,
      userAvatar: users.avatar,
      mentionCount: unreadMentions(userId),
    })
    .from(sessions)
    .innerJoin(conversations, eq(conversations.id, sessions.conversationId))
    .leftJoin(groups, eq(groups.uuid, sessions.receiveId))
    .leftJoin(users, eq(users.uuid, sessions.receiveId))
    .leftJoin(
      contacts,
      and(eq(contacts.userId, sessions.sendId), eq(contacts.contactId, sessions.receiveId), eq(contacts.contactType, ContactType.group)),
    )
    .where(
      and(
        eq(sessions.sendId, userId),
        or(isNull(sessions.hiddenSeq), gt(conversations.lastSeq, sessions.hiddenSeq)),
        input.kind === "group" ? isGroupPeer : input.kind === "private" ? not(isGroupPeer) : undefined,
        or(not(isGroupPeer), and(activeMembershipRow(), normalGroupRow())),
        extra,
      ),
    )
    .orderBy(desc(activity), desc(sessions.id));
}

/** One session of the viewer by peer, shaped like a list item (hidden or not). */
export async function getSessionItem(ctx: DomainContext, userId: string, peerId: string): Promise<SessionItem | undefined> {
  const [item] = await listSessions(ctx, userId, { kind: "all" }, eq(sessions.receiveId, peerId));
  return item;
}
