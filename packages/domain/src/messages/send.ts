import { isDataException, sqlState, messages, sessions, conversations, type Tx } from "@omnilink/db";
import { inArray, and, eq, sql } from "drizzle-orm";
import type { DomainContext } from "../context.js";
import { AppError, badRequest } from "../errors.js";
import { isGroupId, newId, privateConversationId } from "../ids.js";
import type { MessageView } from "../realtime/events.js";
import { transact, type Outbox } from "../realtime/outbox.js";
import { messageViewColumns } from "../realtime/stream-queries.js";
import { admitGroup, admitPrivate, clientKey, type Admission, type PendingSend, type Sender } from "./admission.js";
import { previewOf } from "./preview.js";
import type { SendMessageInput } from "./schemas.js";

export interface SendResult {
  message: MessageView;
  /** True when clientMsgId matched an earlier send: nothing new was written or published. */
  duplicate: boolean;
}

/**
 * Persists one message and queues it for fan-out. Group and private sends take the same path: a
 * queue per conversation with group commit (SendQueue). The send is enqueued synchronously, so
 * calls made in order get seqs in that order even when the caller does not wait between them.
 * Whatever the conversation, a batch writes the conversation row (seq + preview), the senders'
 * read positions and the messages.
 */
export async function sendMessage(ctx: DomainContext, senderId: string, input: SendMessageInput): Promise<SendResult> {
  if (Buffer.byteLength(input.content, "utf8") > ctx.limits.maxMessageBytes) {
    throw new AppError("PAYLOAD_TOO_LARGE", `消息内容过长（最多 ${ctx.limits.maxMessageBytes} 字节）`);
  }
  if (isGroupId(input.receiveId)) return ctx.sends.enqueue(senderId, input.receiveId, input);
  // The legacy private path's input checks come before any other.
  if (input.receiveId === senderId) throw badRequest("不能给自己发消息");
  if (input.type === 0 && input.content === "") throw badRequest("消息内容不能为空");
  return ctx.sends.enqueue(senderId, privateConversationId(senderId, input.receiveId), input);
}

interface Queued extends PendingSend {
  resolve(result: SendResult): void;
  reject(error: unknown): void;
}

/** Most sends one transaction takes; the rest wait for the next one. */
const MAX_BATCH = 200;

/**
 * Group commit, per conversation. Sends to one conversation queue up in arrival order; whatever
 * has queued while the previous transaction ran goes into the next one, which costs the same
 * round trips for one message or two hundred. Each send in a batch is admitted or refused on its
 * own; if the transaction still fails (a value the database refuses), the batch is committed again
 * one send at a time, so only the culprit fails.
 */
export class SendQueue {
  private readonly queues = new Map<string, Queued[]>();

  constructor(private readonly ctx: () => DomainContext) {}

  /** Enqueues synchronously (before the first await), then resolves once committed. */
  enqueue(senderId: string, conversationId: string, input: SendMessageInput): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const pending: Queued = { senderId, input, resolve, reject };
      const queue = this.queues.get(conversationId);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.queues.set(conversationId, [pending]);
      void this.drain(conversationId);
    });
  }

  private async drain(conversationId: string): Promise<void> {
    const queue = this.queues.get(conversationId) ?? [];
    while (queue.length > 0) await commitIsolated(this.ctx(), conversationId, queue.splice(0, MAX_BATCH));
    this.queues.delete(conversationId);
  }
}

async function commitIsolated(ctx: DomainContext, conversationId: string, batch: Queued[]): Promise<void> {
  try {
    await commitBatch(ctx, conversationId, batch);
    return;
  } catch (error) {
    if (batch.length === 1) return batch[0]?.reject(sendError(error));
    // Not the error itself: a failed insert's text lists every value of the batch.
    ctx.log.warn({ sqlState: sqlState(error), conversationId, sends: batch.length }, "send batch failed; committing its sends one by one");
  }
  for (const p of batch) {
    try {
      await commitBatch(ctx, conversationId, [p]);
    } catch (error) {
      p.reject(sendError(error));
    }
  }
}

/** A value the database refused is the sender's bad input; anything else stays what it is. */
const sendError = (error: unknown): unknown => (isDataException(error) ? badRequest() : error);

async function commitBatch(ctx: DomainContext, conversationId: string, batch: Queued[]): Promise<void> {
  const settled: Array<() => void> = [];
  await transact(ctx, async (tx, outbox) => {
    settled.length = 0;
    const admission = isGroupId(conversationId) ? await admitGroup(tx, conversationId, batch) : await admitPrivate(tx, conversationId, batch);
    const accepted = decide(ctx, conversationId, batch, admission, settled);
    if (accepted.length === 0) return;
    const rows = await persist(tx, outbox, conversationId, admission.lastSeq, accepted);
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
  pending: Queued;
  sender: Sender;
  /** Later sends in this batch with the same sender and clientMsgId: they get this message. */
  twins: Queued[];
}

/**
 * One rule for retries, whatever the conversation: a clientMsgId already stored for this sender
 * returns that message (the send did happen, whatever changed since); then the access verdict;
 * then, for groups, the group's send budget, which only admitted sends spend.
 */
function decide(ctx: DomainContext, conversationId: string, batch: Queued[], admission: Admission, settled: Array<() => void>): Accepted[] {
  const accepted: Accepted[] = [];
  const byClientId = new Map<string, Accepted>();
  const refuse = (p: Queued, error: unknown) => settled.push(() => p.reject(error));
  batch.forEach((p, i) => {
    const key = clientKey(p.senderId, p.input.clientMsgId);
    const before = key ? admission.earlier.get(key) : undefined;
    const twin = key ? byClientId.get(key) : undefined;
    const verdict = admission.verdicts[i];
    if (before) settled.push(() => p.resolve({ message: before, duplicate: true }));
    else if (!verdict) refuse(p, new Error("send without a verdict"));
    else if (!verdict.ok) refuse(p, verdict.error);
    else if (twin) twin.twins.push(p);
    else if (isGroupId(conversationId) && !p.charged && !ctx.rateLimiter.take(conversationId, p.senderId)) {
      refuse(p, new AppError("RATE_LIMITED", "发送过于频繁，请稍后再试"));
    } else {
      p.charged = true;
      const a = { pending: p, sender: verdict.sender, twins: [] };
      accepted.push(a);
      if (key) byClientId.set(key, a);
    }
  });
  return accepted;
}

/** The one builder of a message row, for group and private messages. */
function messageRow(conversationId: string, seq: number, p: PendingSend, sender: Sender): typeof messages.$inferInsert {
  const { input } = p;
  const group = isGroupId(conversationId);
  return {
    uuid: newId("M"),
    conversationId,
    seq,
    sessionId: sender.sessionId,
    type: input.type,
    content: input.content,
    url: input.url,
    sendId: p.senderId,
    sendName: sender.name.slice(0, 64),
    sendAvatar: sender.avatar.slice(0, 255),
    receiveId: input.receiveId,
    fileType: input.fileType,
    fileName: input.fileName,
    fileSize: input.fileSize,
    // Mentions are a group feature; private messages never carry them.
    mentionedUserIds: group ? input.mentionedUserIds : [],
    mentionAll: group ? input.mentionAll : false,
    clientMsgId: input.clientMsgId ?? null,
  };
}

/** Three statements whatever the batch or group size: the conversation, the senders' read positions, the messages. */
async function persist(tx: Tx, outbox: Outbox, conversationId: string, lastSeq: number, accepted: Accepted[]): Promise<MessageView[]> {
  const values = accepted.map((a, i) => messageRow(conversationId, lastSeq + i + 1, a.pending, a.sender));
  const last = values[values.length - 1]!;
  // Sending reads what came before: each sender's read position moves to their last message here.
  const readUpTo = [...new Map(values.map((v) => [v.sendId, v.seq]))];
  const readSeqCase = sql.join(
    [sql`case ${sessions.sendId}`, ...readUpTo.map(([id, seq]) => sql`when ${id} then ${seq}::bigint`), sql`end`],
    sql` `,
  );
  // One statement for the conversation's seq and preview and the senders' read positions (their
  // sessions reappear if they had hidden them), sent together with the insert: one round trip.
  const bump = tx.execute(sql`
    with bumped as (
      update ${conversations}
      set ${sql.identifier(conversations.lastSeq.name)} = ${last.seq},
          ${sql.identifier(conversations.lastMessage.name)} = ${previewOf(last.type ?? 0, last.content ?? "")},
          ${sql.identifier(conversations.lastMessageId.name)} = ${last.uuid},
          ${sql.identifier(conversations.lastMessageAt.name)} = now()
      where ${conversations.id} = ${conversationId}
      returning 1
    )
    update ${sessions}
    set ${sql.identifier(sessions.readSeq.name)} = greatest(${sessions.readSeq}, ${readSeqCase}),
        ${sql.identifier(sessions.hiddenSeq.name)} = null,
        ${sql.identifier(sessions.updatedAt.name)} = now()
    where ${and(eq(sessions.conversationId, conversationId), inArray(sessions.sendId, readUpTo.map(([id]) => id)))}`);
  const [, rows] = await Promise.all([bump, tx.insert(messages).values(values).returning(messageViewColumns)]);
  // Ids come from the sequence in VALUES order; sort by seq anyway so publication follows the conversation's order.
  rows.sort((a, b) => a.seq - b.seq);
  for (const row of rows) outbox.message(row);
  return rows;
}
