import { ContactType, contacts, conversations, groups, messages, sessions, users, type Tx } from "@omnilink/db";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { DomainContext } from "../context.js";
import { AppError, forbidden, notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { MessageView } from "../realtime/events.js";
import { transact, type Outbox } from "../realtime/outbox.js";
import { messageViewColumns } from "../realtime/stream-queries.js";
import { previewOf } from "./preview.js";
import type { SendMessageInput } from "./schemas.js";

export interface SendResult {
  message: MessageView;
  /** True when clientMsgId matched an earlier send: nothing new was written or published. */
  duplicate: boolean;
}

interface PendingSend {
  senderId: string;
  input: SendMessageInput;
  resolve(result: SendResult): void;
  reject(error: unknown): void;
}

/** Most sends one transaction takes; the rest wait for the next one. */
const MAX_BATCH = 200;

/**
 * Group commit for group messages. Sends to one group queue up in arrival order; whatever has
 * queued while the previous transaction ran goes into the next one, which costs the same round
 * trips for one message or two hundred. Seqs follow queue order, so a caller that enqueues in
 * order (a connection's frames) keeps its order without waiting for each send.
 */
export class GroupSendQueue {
  private readonly queues = new Map<string, PendingSend[]>();

  constructor(private readonly ctx: () => DomainContext) {}

  /** Enqueues synchronously (before the first await), then resolves once committed. */
  enqueue(senderId: string, input: SendMessageInput): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const pending = { senderId, input, resolve, reject };
      const queue = this.queues.get(input.receiveId);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.queues.set(input.receiveId, [pending]);
      void this.drain(input.receiveId);
    });
  }

  private async drain(groupId: string): Promise<void> {
    const queue = this.queues.get(groupId) ?? [];
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        await sendBatch(this.ctx(), groupId, batch);
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.queues.delete(groupId);
  }
}

async function sendBatch(ctx: DomainContext, groupId: string, batch: PendingSend[]): Promise<void> {
  const settled: Array<() => void> = [];
  await transact(ctx, async (tx, outbox) => {
    const { lastSeq, accepted } = await admit(ctx, tx, groupId, batch, settled);
    if (accepted.length === 0) return;
    const rows = await persist(tx, outbox, groupId, lastSeq, accepted);
    accepted.forEach((a, i) => {
      const message = rows[i] as MessageView;
      settled.push(() => a.pending.resolve({ message, duplicate: false }));
      for (const twin of a.twins) settled.push(() => twin.resolve({ message, duplicate: true }));
    });
  });
  // Only after the commit: a caller must never see a message that could still roll back.
  for (const settle of settled) settle();
}

interface Accepted {
  pending: PendingSend;
  sendName: string;
  sendAvatar: string;
  /** Later sends in this batch with the same sender and clientMsgId: they get this message. */
  twins: PendingSend[];
}

/**
 * The legacy group-path checks, per send, in the legacy order and texts (contract §3.3), in one
 * query that also takes the conversation's row lock. That lock comes first: membership changes
 * take it too, so the checks see the membership as it is at these messages' place.
 */
async function admit(
  ctx: DomainContext,
  tx: Tx,
  groupId: string,
  batch: PendingSend[],
  settled: Array<() => void>,
): Promise<{ lastSeq: number; accepted: Accepted[] }> {
  const refuse = (p: PendingSend, error: AppError) => settled.push(() => p.reject(error));
  const senderIds = [...new Set(batch.map((p) => p.senderId))];
  const rows = await tx
    .select({
      lastSeq: conversations.lastSeq,
      groupStatus: groups.status,
      uuid: users.uuid,
      name: users.nickname,
      username: users.username,
      avatar: users.avatar,
      memberStatus: contacts.status,
    })
    .from(conversations)
    .innerJoin(groups, eq(groups.uuid, conversations.id))
    .leftJoin(users, inArray(users.uuid, senderIds))
    .leftJoin(contacts, and(eq(contacts.userId, users.uuid), eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group)))
    .where(eq(conversations.id, groupId))
    .for("update", { of: conversations });
  const head = rows[0];
  if (!head) {
    batch.forEach((p) => refuse(p, notFound("群组不存在")));
    return { lastSeq: 0, accepted: [] };
  }
  if (head.groupStatus !== 0) {
    batch.forEach((p) => refuse(p, forbidden("群组状态异常")));
    return { lastSeq: head.lastSeq, accepted: [] };
  }
  const earlier = await earlierByClientId(tx, groupId, batch);
  const accepted: Accepted[] = [];
  const byClientId = new Map<string, Accepted>();
  for (const p of batch) {
    const sender = rows.find((s) => s.uuid === p.senderId);
    if (!sender) refuse(p, forbidden("用户异常"));
    else if (sender.memberStatus === null) refuse(p, forbidden("非群成员，无法发送消息"));
    else if (sender.memberStatus !== 0) refuse(p, forbidden("无权发送消息"));
    else {
      const key = p.input.clientMsgId ? `${p.senderId}\u0000${p.input.clientMsgId}` : undefined;
      const before = key ? earlier.get(key) : undefined;
      const twin = key ? byClientId.get(key) : undefined;
      if (before) settled.push(() => p.resolve({ message: before, duplicate: true }));
      else if (twin) twin.twins.push(p);
      // Only admitted sends spend the group's budget: refused senders cannot silence a group.
      else if (!ctx.rateLimiter.take(groupId)) refuse(p, new AppError("RATE_LIMITED", "发送过于频繁，请稍后再试"));
      else {
        const a = { pending: p, sendName: sender.name || sender.username || "", sendAvatar: sender.avatar ?? "", twins: [] };
        accepted.push(a);
        if (key) byClientId.set(key, a);
      }
    }
  }
  return { lastSeq: head.lastSeq, accepted };
}

/** Messages already stored under the batch's client ids (retries), keyed by sender and client id. */
async function earlierByClientId(tx: Tx, groupId: string, batch: PendingSend[]): Promise<Map<string, MessageView>> {
  const clientIds = [...new Set(batch.flatMap((p) => (p.input.clientMsgId ? [p.input.clientMsgId] : [])))];
  if (clientIds.length === 0) return new Map();
  const rows = await tx
    .select(messageViewColumns)
    .from(messages)
    .where(and(eq(messages.conversationId, groupId), inArray(messages.clientMsgId, clientIds)));
  return new Map(rows.map((m) => [`${m.sendId}\u0000${m.clientMsgId ?? ""}`, m]));
}

/** Three statements whatever the batch or group size: the conversation, the senders' read positions, the messages. */
async function persist(tx: Tx, outbox: Outbox, groupId: string, lastSeq: number, accepted: Accepted[]): Promise<MessageView[]> {
  const values = accepted.map((a, i) => {
    const input = a.pending.input;
    return {
      uuid: newId("M"),
      conversationId: groupId,
      seq: lastSeq + i + 1,
      sessionId: "",
      type: input.type,
      content: input.content,
      url: input.url,
      sendId: a.pending.senderId,
      sendName: a.sendName.slice(0, 64),
      sendAvatar: a.sendAvatar,
      receiveId: groupId,
      fileType: input.fileType,
      fileName: input.fileName,
      fileSize: input.fileSize,
      mentionedUserIds: input.mentionedUserIds,
      mentionAll: input.mentionAll,
      clientMsgId: input.clientMsgId ?? null,
    };
  });
  const last = values[values.length - 1]!;
  // Sending reads what came before: each sender's read position moves to their last message here.
  const readUpTo = [...new Map(values.map((v) => [v.sendId, v.seq]))];
  const readSeqCase = sql.join(
    [sql`case ${sessions.sendId}`, ...readUpTo.map(([id, seq]) => sql`when ${id} then ${seq}::bigint`), sql`end`],
    sql` `,
  );
  // One statement (one round trip, under the conversation lock) for the conversation's seq and
  // preview and the senders' read positions.
  await tx.execute(sql`
    with bumped as (
      update ${conversations}
      set ${sql.identifier(conversations.lastSeq.name)} = ${last.seq},
          ${sql.identifier(conversations.lastMessage.name)} = ${previewOf(last.type, last.content)},
          ${sql.identifier(conversations.lastMessageId.name)} = ${last.uuid},
          ${sql.identifier(conversations.lastMessageAt.name)} = now()
      where ${conversations.id} = ${groupId}
      returning 1
    )
    update ${sessions}
    set ${sql.identifier(sessions.readSeq.name)} = greatest(${sessions.readSeq}, ${readSeqCase}),
        ${sql.identifier(sessions.hiddenSeq.name)} = null,
        ${sql.identifier(sessions.updatedAt.name)} = now()
    where ${sessions.receiveId} = ${groupId} and ${inArray(sessions.sendId, readUpTo.map(([id]) => id))}`);
  await outbox.lockStream();
  const rows = await tx.insert(messages).values(values).returning(messageViewColumns);
  // Ids come from the sequence in VALUES order; sort by seq anyway so publication follows the conversation's order.
  rows.sort((a, b) => a.seq - b.seq);
  for (const row of rows) outbox.message(row);
  return rows;
}
