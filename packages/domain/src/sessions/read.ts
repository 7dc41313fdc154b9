import { ContactType, contacts, conversations, groups, sessions } from "@omnilink/db";
import { and, eq, sql } from "drizzle-orm";
import { isNormalGroup, mayReadGroup } from "../access.js";
import type { DomainContext } from "../context.js";
import { forbidden, notFound } from "../errors.js";
import { isGroupId } from "../ids.js";
import type { DeleteSessionInput, MarkReadInput } from "./schemas.js";

/** Moves the viewer's read position forward (never back, never past the last message). */
export async function markSessionRead(ctx: DomainContext, userId: string, input: MarkReadInput): Promise<{ readSeq: number; unreadCount: number }> {
  // A group session outlives the membership (it is only hidden): only active members may read on.
  if (isGroupId(input.peerId)) {
    const [m] = await ctx.db
      .select({ status: contacts.status, groupStatus: groups.status })
      .from(contacts)
      .innerJoin(groups, eq(groups.uuid, contacts.contactId))
      .where(and(eq(contacts.userId, userId), eq(contacts.contactId, input.peerId), eq(contacts.contactType, ContactType.group)));
    if (!m || !mayReadGroup(m.status) || !isNormalGroup({ status: m.groupStatus })) throw forbidden("非群成员");
  }
  const target = input.seq === undefined ? conversations.lastSeq : sql`least(${input.seq}, ${conversations.lastSeq})`;
  const [row] = await ctx.db
    .update(sessions)
    .set({ readSeq: sql`greatest(${sessions.readSeq}, ${target})`, updatedAt: sql`now()` })
    .from(conversations)
    .where(and(eq(sessions.sendId, userId), eq(sessions.receiveId, input.peerId), eq(conversations.id, sessions.conversationId)))
    .returning({ readSeq: sessions.readSeq, lastSeq: conversations.lastSeq });
  if (!row) throw notFound("会话不存在");
  return { readSeq: row.readSeq, unreadCount: Math.max(0, row.lastSeq - row.readSeq) };
}

/** Hides a session until its conversation gets a new message (legacy "delete session"). */
export async function deleteSession(ctx: DomainContext, userId: string, input: DeleteSessionInput): Promise<void> {
  const [row] = await ctx.db
    .update(sessions)
    .set({ hiddenSeq: conversations.lastSeq, updatedAt: sql`now()` })
    .from(conversations)
    .where(and(eq(sessions.sendId, userId), eq(sessions.uuid, input.sessionId), eq(conversations.id, sessions.conversationId)))
    .returning({ uuid: sessions.uuid });
  if (!row) throw notFound("会话不存在");
}
