import { contacts, groups, messages, sessions, streamEvents, type Queryable } from "@omnilink/db";
import { and, asc, eq, gt, inArray, lte, max, not, like, or, arrayContains } from "drizzle-orm";
import type { MessageView, StreamEventView, StreamItem } from "./events.js";
import { activeMembershipOf } from "../access.js";

export const messageViewColumns = {
  id: messages.id,
  uuid: messages.uuid,
  conversationId: messages.conversationId,
  seq: messages.seq,
  sessionId: messages.sessionId,
  type: messages.type,
  content: messages.content,
  url: messages.url,
  sendId: messages.sendId,
  sendName: messages.sendName,
  sendAvatar: messages.sendAvatar,
  receiveId: messages.receiveId,
  fileType: messages.fileType,
  fileName: messages.fileName,
  fileSize: messages.fileSize,
  mentionedUserIds: messages.mentionedUserIds,
  mentionAll: messages.mentionAll,
  clientMsgId: messages.clientMsgId,
  createdAt: messages.createdAt,
};

/** The highest committed stream id: every id below it is settled (see Outbox). */
export async function streamHead(db: Queryable): Promise<number> {
  const [m] = await db.select({ id: max(messages.id) }).from(messages);
  const [e] = await db.select({ id: max(streamEvents.id) }).from(streamEvents);
  return Math.max(Number(m?.id ?? 0), Number(e?.id ?? 0));
}

/** Who a user hears from: their active groups and the conversations of their private sessions. */
export async function loadAudience(db: Queryable, userId: string): Promise<{ groupIds: string[]; privateConversationIds: string[] }> {
  const memberships = await db
    .select({ groupId: contacts.contactId })
    .from(contacts)
    .innerJoin(groups, eq(groups.uuid, contacts.contactId))
    .where(activeMembershipOf(userId));
  const privates = await db
    .select({ conversationId: sessions.conversationId })
    .from(sessions)
    .where(and(eq(sessions.sendId, userId), not(like(sessions.receiveId, "G%"))));
  return { groupIds: memberships.map((m) => m.groupId), privateConversationIds: privates.map((p) => p.conversationId) };
}

/**
 * Stream items with after < id <= upTo, in id order, at most `limit`. With an audience, only
 * what that user should hear: messages of the given conversations, and events of the given
 * groups or addressed to the user.
 */
export async function loadStreamItems(
  db: Queryable,
  range: { after: number; upTo: number; limit: number },
  audience?: { userId: string; groupIds: string[]; privateConversationIds: string[] },
): Promise<StreamItem[]> {
  const idRange = (col: typeof messages.id | typeof streamEvents.id) => and(gt(col, range.after), lte(col, range.upTo));
  const conversationIds = audience ? [...audience.groupIds, ...audience.privateConversationIds] : [];
  const messageRows: MessageView[] =
    audience && conversationIds.length === 0
      ? []
      : await db
          .select(messageViewColumns)
          .from(messages)
          .where(and(idRange(messages.id), audience ? inArray(messages.conversationId, conversationIds) : undefined))
          .orderBy(asc(messages.id))
          .limit(range.limit);
  const eventRows = await db
    .select()
    .from(streamEvents)
    .where(
      and(
        idRange(streamEvents.id),
        audience
          ? or(
              audience.groupIds.length > 0 ? inArray(streamEvents.groupId, audience.groupIds) : undefined,
              arrayContains(streamEvents.userIds, [audience.userId]),
            )
          : undefined,
      ),
    )
    .orderBy(asc(streamEvents.id))
    .limit(range.limit);
  const items: StreamItem[] = [
    ...messageRows.map((message): StreamItem => ({ kind: "message", id: message.id, message })),
    ...eventRows.map((row): StreamItem => ({ kind: "event", id: row.id, event: row as StreamEventView })),
  ];
  items.sort((a, b) => a.id - b.id);
  // Both lists were cut at `limit`; past the smaller cut-off the merge may be missing rows.
  const cut = Math.min(
    messageRows.length === range.limit ? (messageRows.at(-1)?.id ?? Infinity) : Infinity,
    eventRows.length === range.limit ? (eventRows.at(-1)?.id ?? Infinity) : Infinity,
  );
  return items.filter((i) => i.id <= cut);
}
