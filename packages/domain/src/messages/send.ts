import { ContactType, conversations, contacts, groups, messages, sessions, users, type Tx } from "@omnilink/db";
import { and, eq, sql } from "drizzle-orm";
import type { DomainContext } from "../context.js";
import { AppError, badRequest, forbidden, notFound } from "../errors.js";
import { isGroupId, newId, privateConversationId } from "../ids.js";
import type { MessageView } from "../realtime/events.js";
import { transact, type Outbox } from "../realtime/outbox.js";
import { messageViewColumns } from "../realtime/stream-queries.js";
import { ensureConversation, ensureSession } from "../sessions/ensure.js";
import { previewOf } from "./preview.js";
import type { SendMessageInput } from "./schemas.js";

export interface SendResult {
  message: MessageView;
  /** True when clientMsgId matched an earlier send: nothing new was written or published. */
  duplicate: boolean;
}

/** Thrown inside the transaction when a concurrent retry inserted the same clientMsgId first. */
class DuplicateClientMessage extends Error {}

/**
 * Persists one message and queues it for fan-out. Whatever the group size, a send writes three
 * rows: the conversation (seq + preview), the message, and the sender's own read position.
 */
export async function sendMessage(ctx: DomainContext, senderId: string, input: SendMessageInput): Promise<SendResult> {
  if (Buffer.byteLength(input.content, "utf8") > ctx.limits.maxMessageBytes) {
    throw new AppError("PAYLOAD_TOO_LARGE", `消息内容过长（最多 ${ctx.limits.maxMessageBytes} 字节）`);
  }
  const group = isGroupId(input.receiveId);
  const conversationId = group ? input.receiveId : privateConversationId(senderId, input.receiveId);
  if (input.clientMsgId) {
    const earlier = await findByClientId(ctx, senderId, conversationId, input.clientMsgId);
    if (earlier) return { message: earlier, duplicate: true };
  }
  try {
    const message = group
      ? await transact(ctx, (tx, outbox) => sendToGroup(ctx, tx, outbox, senderId, input))
      : await sendPrivate(ctx, senderId, conversationId, input);
    return { message, duplicate: false };
  } catch (error) {
    if (!(error instanceof DuplicateClientMessage) || !input.clientMsgId) throw error;
    const earlier = await findByClientId(ctx, senderId, conversationId, input.clientMsgId);
    if (!earlier) throw error;
    return { message: earlier, duplicate: true };
  }
}

async function findByClientId(ctx: DomainContext, senderId: string, conversationId: string, clientMsgId: string) {
  const [row] = await ctx.db
    .select(messageViewColumns)
    .from(messages)
    .where(and(eq(messages.sendId, senderId), eq(messages.conversationId, conversationId), eq(messages.clientMsgId, clientMsgId)))
    .limit(1);
  return row;
}

/** Takes the conversation's row lock and the next seq; undefined when the conversation does not exist. */
async function nextSeq(tx: Tx, conversationId: string, messageUuid: string, preview: string): Promise<number | undefined> {
  const [row] = await tx
    .update(conversations)
    .set({ lastSeq: sql`${conversations.lastSeq} + 1`, lastMessage: preview, lastMessageId: messageUuid, lastMessageAt: sql`now()` })
    .where(eq(conversations.id, conversationId))
    .returning({ seq: conversations.lastSeq });
  return row?.seq;
}

async function sendToGroup(ctx: DomainContext, tx: Tx, outbox: Outbox, senderId: string, input: SendMessageInput): Promise<MessageView> {
  const groupId = input.receiveId;
  const uuid = newId("M");
  // The conversation lock comes first: membership changes take it too, so the checks below
  // see the membership as it is at this message's place in the conversation.
  const seq = await nextSeq(tx, groupId, uuid, previewOf(input.type, input.content));
  if (seq === undefined) throw notFound("群组不存在");
  const [row] = await tx
    .select({
      name: users.nickname,
      username: users.username,
      avatar: users.avatar,
      groupName: groups.name,
      groupAvatar: groups.avatar,
      groupStatus: groups.status,
      memberStatus: contacts.status,
    })
    .from(users)
    .leftJoin(groups, eq(groups.uuid, groupId))
    .leftJoin(contacts, and(eq(contacts.userId, users.uuid), eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group)))
    .where(eq(users.uuid, senderId));
  if (!row || row.groupStatus === null) throw notFound("群组不存在");
  if (row.groupStatus !== 0) throw forbidden("群组状态异常");
  if (row.memberStatus === null) throw forbidden("非群成员，无法发送消息");
  if (row.memberStatus !== 0) throw forbidden("无权发送消息");
  // Only after the checks: refused senders must not spend the group's budget (or they could silence it).
  if (!ctx.rateLimiter.take(groupId)) throw new AppError("RATE_LIMITED", "发送过于频繁，请稍后再试");
  await ensureSession(tx, {
    ownerId: senderId,
    peerId: groupId,
    conversationId: groupId,
    name: row.groupName ?? "",
    avatar: row.groupAvatar ?? "",
    readSeq: seq,
  });
  return insertMessage(tx, outbox, {
    uuid,
    seq,
    conversationId: groupId,
    sessionId: "",
    sendName: row.name || row.username,
    sendAvatar: row.avatar,
    senderId,
    input,
  });
}

/** Legacy private-path checks, in the legacy order and texts (contract §3.3). */
async function sendPrivate(ctx: DomainContext, senderId: string, conversationId: string, input: SendMessageInput): Promise<MessageView> {
  const peerId = input.receiveId;
  if (peerId === senderId) throw badRequest("不能给自己发消息");
  if (input.type === 0 && input.content === "") throw badRequest("消息内容不能为空");
  const [row] = await ctx.db
    .select({
      friendStatus: contacts.status,
      name: users.nickname,
      username: users.username,
      avatar: users.avatar,
      status: users.status,
      mySession: sql<string | null>`(select ${sessions.uuid} from ${sessions} where ${sessions.sendId} = ${senderId} and ${sessions.receiveId} = ${peerId})`,
      theirSession: sql<string | null>`(select ${sessions.uuid} from ${sessions} where ${sessions.sendId} = ${peerId} and ${sessions.receiveId} = ${senderId})`,
    })
    .from(users)
    .leftJoin(contacts, and(eq(contacts.userId, users.uuid), eq(contacts.contactId, peerId), eq(contacts.contactType, ContactType.user)))
    .where(eq(users.uuid, senderId));
  const friend = row?.friendStatus ?? null;
  if (friend === null) throw forbidden("无权发送消息");
  if (friend === 2) throw forbidden("已被对方拉黑，无法发送消息");
  if (friend === 1) throw forbidden("已拉黑对方，无法发送消息");
  if (friend !== 0) throw forbidden("无权发送消息");
  if (!row?.mySession) throw badRequest("会话不存在，请先创建会话");
  if (input.sessionId && input.sessionId !== row.mySession) throw badRequest("session_id 不匹配");
  if (!row.theirSession) throw badRequest("对方会话不存在，请对方先创建会话");
  if (row.status !== 0) throw forbidden("用户状态异常，无法发送消息");
  const mySession = row.mySession;
  return transact(ctx, async (tx, outbox) => {
    const uuid = newId("M");
    const preview = previewOf(input.type, input.content);
    let seq = await nextSeq(tx, conversationId, uuid, preview);
    if (seq === undefined) {
      await ensureConversation(tx, conversationId, 0);
      seq = await nextSeq(tx, conversationId, uuid, preview);
    }
    if (seq === undefined) throw new Error(`conversation ${conversationId} could not be created`);
    await tx
      .update(sessions)
      .set({ readSeq: sql`greatest(${sessions.readSeq}, ${seq})`, hiddenSeq: null, updatedAt: sql`now()` })
      .where(eq(sessions.uuid, mySession));
    return insertMessage(tx, outbox, {
      uuid,
      seq,
      conversationId,
      sessionId: mySession,
      sendName: row.name || row.username,
      sendAvatar: row.avatar,
      senderId,
      input,
    });
  });
}

async function insertMessage(
  tx: Tx,
  outbox: Outbox,
  m: { uuid: string; seq: number; conversationId: string; sessionId: string; sendName: string; sendAvatar: string; senderId: string; input: SendMessageInput },
): Promise<MessageView> {
  const { input } = m;
  await outbox.lockStream();
  const [row] = await tx
    .insert(messages)
    .values({
      uuid: m.uuid,
      conversationId: m.conversationId,
      seq: m.seq,
      sessionId: m.sessionId,
      type: input.type,
      content: input.content,
      url: input.url,
      sendId: m.senderId,
      sendName: m.sendName.slice(0, 64),
      sendAvatar: m.sendAvatar,
      receiveId: input.receiveId,
      fileType: input.fileType,
      fileName: input.fileName,
      fileSize: input.fileSize,
      mentionedUserIds: isGroupId(input.receiveId) ? input.mentionedUserIds : [],
      mentionAll: isGroupId(input.receiveId) && input.mentionAll,
      clientMsgId: input.clientMsgId ?? null,
    })
    .onConflictDoNothing({ target: [messages.sendId, messages.conversationId, messages.clientMsgId] })
    .returning(messageViewColumns);
  if (!row) throw new DuplicateClientMessage();
  outbox.message(row);
  return row;
}
