import { ContactType, conversations, contacts, messages, sessions, users, type Tx } from "@omnilink/db";
import { and, eq, sql } from "drizzle-orm";
import type { DomainContext } from "../context.js";
import { AppError, badRequest, forbidden } from "../errors.js";
import { isGroupId, newId, privateConversationId } from "../ids.js";
import type { MessageView } from "../realtime/events.js";
import { transact, type Outbox } from "../realtime/outbox.js";
import { messageViewColumns } from "../realtime/stream-queries.js";
import { ensureConversation } from "../sessions/ensure.js";
import type { SendResult } from "./group-batch.js";
import { previewOf } from "./preview.js";
import type { SendMessageInput } from "./schemas.js";

/** Thrown inside the transaction when a concurrent retry inserted the same clientMsgId first. */
class DuplicateClientMessage extends Error {}

/**
 * Persists one message and queues it for fan-out. Whatever the group size, a send writes three
 * rows: the conversation (seq + preview), the message, and the sender's own read position.
 * Group sends are enqueued synchronously (group commit, see GroupSendQueue): calls made in order
 * get seqs in that order even when the caller does not wait between them.
 */
export async function sendMessage(ctx: DomainContext, senderId: string, input: SendMessageInput): Promise<SendResult> {
  if (Buffer.byteLength(input.content, "utf8") > ctx.limits.maxMessageBytes) {
    throw new AppError("PAYLOAD_TOO_LARGE", `消息内容过长（最多 ${ctx.limits.maxMessageBytes} 字节）`);
  }
  if (isGroupId(input.receiveId)) return ctx.groupSends.enqueue(senderId, input);
  const conversationId = privateConversationId(senderId, input.receiveId);
  if (input.clientMsgId) {
    const earlier = await findByClientId(ctx, senderId, conversationId, input.clientMsgId);
    if (earlier) return { message: earlier, duplicate: true };
  }
  try {
    return { message: await sendPrivate(ctx, senderId, conversationId, input), duplicate: false };
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
      // Mentions are a group feature; private items never carry them.
      mentionedUserIds: [],
      mentionAll: false,
      clientMsgId: input.clientMsgId ?? null,
    })
    .onConflictDoNothing({ target: [messages.sendId, messages.conversationId, messages.clientMsgId] })
    .returning(messageViewColumns);
  if (!row) throw new DuplicateClientMessage();
  outbox.message(row);
  return row;
}
