import { ContactType, contacts, conversations, messages, type Tx } from "@omnilink/db";
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { isActiveMembership, isFriend, isGroupAdmin, isGroupOwner, isNormalGroup } from "../access.js";
import { friendship, lockFriendPairsShared } from "../contacts/pair.js";
import type { DomainContext } from "../context.js";
import { forbidden, notFound } from "../errors.js";
import { isGroupId } from "../ids.js";
import { lockGroup } from "../groups/membership.js";
import type { MessageView } from "../realtime/events.js";
import { transact } from "../realtime/outbox.js";
import { messageViewColumns } from "../realtime/stream-queries.js";
import { lockConversation } from "../sessions/ensure.js";
import { RECALLED_PREVIEW } from "./preview.js";
import type { RecallMessageInput } from "./schemas.js";

/** Refusals of a recall (the old server had no recall: the texts are ours). */
export const RecallErrors = {
  messageNotFound: () => notFound("消息不存在"),
  notMember: () => forbidden("非群成员，无法撤回消息"),
  groupClosed: () => forbidden("群组状态异常"),
  notFriends: () => forbidden("非好友关系，无法撤回消息"),
  notYours: () => forbidden("只能撤回自己的消息"),
  managerOnlyOrdinary: () => forbidden("管理员只能撤回普通成员的消息"),
  tooLate: (windowMs: number) => forbidden(`消息发送超过 ${formatWindow(windowMs)}，无法撤回`),
};

function formatWindow(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} 分钟`;
  return `${Math.ceil(ms / 1000)} 秒`;
}

export interface RecallResult {
  /** False when the message was already recalled: nothing was written and no event was sent. */
  changed: boolean;
  /** The message as every read path now shows it (content erased, recalledAt/recalledBy set). */
  message: MessageView;
}

/**
 * Recalls a message. Who may:
 *   - its sender, within `limits.recallWindowMs` of sending, while still allowed in the
 *     conversation: an active (normal or muted) member of a normal group, or the peer's friend;
 *   - in a group, the owner: any message, at any time;
 *   - in a group, an admin: any message of an ordinary member (not the owner's, not a current
 *     admin's) at any time; their own messages within the window, like anyone's.
 * The rule is read under the lock every change it depends on takes: the group's conversation row
 * (lockGroup: membership, role, owner and status change under it) or, in a private chat, the
 * pair's lock in shared mode (friendship changes take it exclusively) and then the conversation
 * row, as a send does. The message keeps its id, seq and place; the same transaction erases its
 * content, url, file fields and mentions, turns the conversation's preview into the marker when it
 * was the last message, and writes the `message.recalled` event. Recalling a recalled message by
 * someone who may still read the conversation changes nothing and emits nothing.
 */
export async function recallMessage(ctx: DomainContext, userId: string, input: RecallMessageInput): Promise<RecallResult> {
  // Which conversation (never changes): tells which lock to take.
  const [located] = await ctx.db
    .select({ conversationId: messages.conversationId })
    .from(messages)
    .where(eq(messages.uuid, input.messageId))
    .limit(1);
  if (!located) throw RecallErrors.messageNotFound();
  const conversationId = located.conversationId;
  return transact(ctx, async (tx, outbox) => {
    let audience: { groupId?: string; userIds?: string[] };
    let target: LockedMessage;
    if (isGroupId(conversationId)) {
      const { group } = await lockGroup(tx, conversationId);
      if (!group) throw RecallErrors.messageNotFound();
      target = await lockedMessage(tx, input.messageId);
      const roles = await membershipsOf(tx, conversationId, [userId, target.view.sendId]);
      const mine = roles.get(userId);
      if (!mine || !isActiveMembership(mine.status)) throw RecallErrors.notMember();
      if (!isNormalGroup(group)) throw RecallErrors.groupClosed();
      if (target.view.recalledAt) return { changed: false, message: target.view };
      if (isGroupOwner(group, userId)) {
        // The owner recalls anything, at any time.
      } else if (target.view.sendId === userId) {
        checkWindow(ctx, target);
      } else if (isGroupAdmin(mine)) {
        const sender = roles.get(target.view.sendId);
        if (isGroupOwner(group, target.view.sendId) || isGroupAdmin(sender)) throw RecallErrors.managerOnlyOrdinary();
      } else {
        throw RecallErrors.notYours();
      }
      audience = { groupId: conversationId };
    } else {
      const [a = "", b = ""] = conversationId.split(":");
      // Someone else's private chat: as if the message did not exist.
      if (userId !== a && userId !== b) throw RecallErrors.messageNotFound();
      const peer = userId === a ? b : a;
      await lockFriendPairsShared(tx, [conversationId]);
      await lockConversation(tx, conversationId);
      target = await lockedMessage(tx, input.messageId);
      if (!isFriend(await friendship(tx, userId, peer))) throw RecallErrors.notFriends();
      if (target.view.recalledAt) return { changed: false, message: target.view };
      if (target.view.sendId !== userId) throw RecallErrors.notYours();
      checkWindow(ctx, target);
      audience = { userIds: [a, b] };
    }
    const [recalled] = await tx
      .update(messages)
      .set({
        content: "",
        url: "",
        fileType: "",
        fileName: "",
        fileSize: "",
        mentionedUserIds: [],
        mentionAll: false,
        recalledAt: sql`now()`,
        recalledBy: userId,
      })
      .where(and(eq(messages.uuid, input.messageId), isNull(messages.recalledAt)))
      .returning(messageViewColumns);
    if (!recalled) throw new Error("recall: the locked message was not updated");
    // The preview shows the marker only while this message is the conversation's last one.
    await tx
      .update(conversations)
      .set({ lastMessage: RECALLED_PREVIEW })
      .where(and(eq(conversations.id, conversationId), eq(conversations.lastMessageId, input.messageId)));
    await outbox.event("message.recalled", audience, {
      messageId: recalled.uuid,
      conversationId,
      seq: recalled.seq,
      by: userId,
    });
    return { changed: true, message: recalled };
  });
}

interface LockedMessage {
  view: MessageView;
  /** Milliseconds between the send and this transaction's start (the database's clock). */
  ageMs: number;
}

/** The message as of the lock just taken (every recall of its conversation takes the same lock). */
async function lockedMessage(tx: Tx, messageId: string): Promise<LockedMessage> {
  const [row] = await tx
    .select({ ...messageViewColumns, ageMs: sql<string>`extract(epoch from (now() - ${messages.createdAt})) * 1000` })
    .from(messages)
    .where(eq(messages.uuid, messageId));
  if (!row) throw RecallErrors.messageNotFound();
  const { ageMs, ...view } = row;
  return { view, ageMs: Number(ageMs) };
}

function checkWindow(ctx: DomainContext, target: LockedMessage): void {
  if (target.ageMs > ctx.limits.recallWindowMs) throw RecallErrors.tooLate(ctx.limits.recallWindowMs);
}

/** The membership rows (status and role) of these users in the group. */
async function membershipsOf(tx: Tx, groupId: string, userIds: string[]): Promise<Map<string, { status: number; role: number }>> {
  const rows = await tx
    .select({ userId: contacts.userId, status: contacts.status, role: contacts.role })
    .from(contacts)
    .where(and(eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group), inArray(contacts.userId, [...new Set(userIds)])));
  return new Map(rows.map((r) => [r.userId, { status: r.status, role: r.role }]));
}

