import { ContactType, contacts, conversations, groups, queryRows, sessions } from "@omnilink/db";
import { and, eq, sql } from "drizzle-orm";
import { friendRow, isNormalGroup, mayReadGroup, privateRefusal } from "../access.js";
import type { DomainContext } from "../context.js";
import { forbidden, notFound } from "../errors.js";
import { isGroupId } from "../ids.js";
import type { DeleteSessionInput, MarkReadInput } from "./schemas.js";

/**
 * Moves the viewer's read position forward (never back, never past the last message). Whoever may
 * read the conversation may mark it: an active member of a normal group, or (private) a friend
 * (the same rules as history). The friendship is checked in the statement that moves the
 * position, so a mark that races an unfriending or a block is either before it (and is told to
 * the peer as a receipt) or refused.
 */
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
  // Private: still friends, read in the update's own snapshot.
  const mayRead = isGroupId(input.peerId)
    ? sql`true`
    : sql`exists (select 1 from ${contacts} where ${and(eq(contacts.userId, userId), eq(contacts.contactId, input.peerId), friendRow())})`;
  const target = input.seq === undefined ? conversations.lastSeq : sql`least(${input.seq}, ${conversations.lastSeq})`;
  // The row as it was, locked: under READ COMMITTED a concurrent mark is waited for and its result
  // read (FOR UPDATE re-reads the newest version), so `previous` is exactly what this update moves
  // from, and greatest() keeps the position from ever moving back.
  const [row] = await queryRows<{ read_seq: number | string; last_seq: number | string; previous: number | string; conversation_id: string }>(
    ctx.db,
    sql`
      update ${sessions}
      set ${sql.identifier(sessions.readSeq.name)} = greatest(${sessions.readSeq}, ${target}),
          ${sql.identifier(sessions.updatedAt.name)} = now()
      from ${conversations},
           (select ${sessions.id} as id, ${sessions.readSeq} as read_seq from ${sessions}
            where ${sessions.sendId} = ${userId} and ${sessions.receiveId} = ${input.peerId} for update) as before
      where before.id = ${sessions.id} and ${conversations.id} = ${sessions.conversationId} and ${mayRead}
      returning ${sessions.readSeq} as read_seq, ${conversations.lastSeq} as last_seq, before.read_seq as previous,
                ${sessions.conversationId} as conversation_id`,
  );
  if (!row) throw (await privateReadRefusal(ctx, userId, input.peerId)) ?? notFound("会话不存在");
  // Read receipts: one signal per mark that moved, whatever the messages it passes (see receipts.ts).
  const readSeq = Number(row.read_seq);
  const previous = Number(row.previous);
  if (readSeq > previous) ctx.receipts.publish({ kind: "read", conversationId: row.conversation_id, readerId: userId, fromSeq: previous, toSeq: readSeq });
  return { readSeq, unreadCount: Math.max(0, Number(row.last_seq) - readSeq) };
}

/** Why a private mark was refused, if it was for want of a friendship (see privateRefusal). */
async function privateReadRefusal(ctx: DomainContext, userId: string, peerId: string) {
  if (isGroupId(peerId)) return undefined;
  const [f] = await ctx.db
    .select({ status: contacts.status })
    .from(contacts)
    .where(and(eq(contacts.userId, userId), eq(contacts.contactId, peerId), eq(contacts.contactType, ContactType.user)));
  return privateRefusal(f?.status, "read");
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
