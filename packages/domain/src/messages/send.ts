import { isDataException, queryRows, sqlState, messages, sessions, conversations, type Tx } from "@omnilink/db";
import { getTableColumns, sql } from "drizzle-orm";
import type { DomainContext, SendPipeline } from "../context.js";
import { AppError, badRequest } from "../errors.js";
import { isGroupId, newId, privateConversationId } from "../ids.js";
import type { MessageView } from "../realtime/events.js";
import { transact, type Outbox } from "../realtime/outbox.js";
import { admit, admitNew, clientKey, type Admission, type PendingSend, type Sender } from "./admission.js";
import { previewOf } from "./preview.js";
import type { SendMessageInput, SendResult } from "./schemas.js";

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

/** Most sends one transaction takes, whatever the conversations; the rest wait for the next one. */
const MAX_BATCH = 200;
/**
 * Send transactions this node runs at once. Each may carry many conversations, so a few are
 * enough to keep PostgreSQL's group commit busy; the rest of the pool stays free for reads,
 * ticks and membership changes.
 */
const MAX_TRANSACTIONS = 4;

/**
 * Group commit, per conversation and across conversations. Sends to one conversation queue up in
 * arrival order, and a conversation is in at most one transaction at a time, so its seqs follow
 * the queue. Whatever has queued, in any conversations, while the transactions in flight ran
 * goes into the next one: its statements each cover every conversation it carries (see
 * admission.ts), so a transaction costs the same round trips for one message or two hundred, in
 * one group or in a hundred. Each send is admitted or refused on its own; if a transaction still
 * fails, its conversations are committed again one by one, and a conversation that fails alone
 * one send at a time, so only the culprit fails.
 */
export class SendQueue implements SendPipeline {
  /** Sends waiting, per conversation, in arrival order. */
  private readonly waiting = new Map<string, Queued[]>();
  /** Conversations with sends in a transaction in flight. */
  private readonly busy = new Set<string>();
  private running = 0;
  /** Batches taken and the sends they carried (a batch is committed in one transaction unless it fails). */
  readonly stats = { batches: 0, sends: 0 };

  constructor(private readonly ctx: () => DomainContext) {}

  /** Enqueues synchronously (before the first await), then resolves once committed. */
  enqueue(senderId: string, conversationId: string, input: SendMessageInput): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const queue = this.waiting.get(conversationId);
      const pending: Queued = { senderId, input, resolve, reject };
      if (queue) queue.push(pending);
      else this.waiting.set(conversationId, [pending]);
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < MAX_TRANSACTIONS) {
      const batches = this.take();
      if (batches.size === 0) return;
      this.running++;
      this.stats.batches++;
      for (const sends of batches.values()) this.stats.sends += sends.length;
      void commitIsolated(this.ctx(), batches).finally(() => {
        this.running--;
        for (const id of batches.keys()) this.busy.delete(id);
        this.pump();
      });
    }
  }

  /** Up to MAX_BATCH waiting sends of conversations not in flight, the longest-waiting first. */
  private take(): Map<string, Queued[]> {
    const batches = new Map<string, Queued[]>();
    let room = MAX_BATCH;
    for (const [id, queue] of this.waiting) {
      if (room === 0) break;
      if (this.busy.has(id)) continue;
      const sends = queue.splice(0, room);
      room -= sends.length;
      batches.set(id, sends);
      this.busy.add(id);
      // Re-inserted at the end, so the next take starts with conversations that waited longer.
      this.waiting.delete(id);
      if (queue.length > 0) this.waiting.set(id, queue);
    }
    return batches;
  }
}

/**
 * Commits a batch; if its transaction fails, commits its conversations again one by one, and a
 * conversation's sends one at a time, so a failure reaches only the sends it belongs to.
 */
async function commitIsolated(ctx: DomainContext, batches: Map<string, Queued[]>): Promise<void> {
  let unlocked: string[];
  try {
    unlocked = await commitBatch(ctx, batches);
  } catch (error) {
    const sends = [...batches.values()].flat();
    if (sends.length === 1) return sends[0]?.reject(sendError(error));
    // Not the error itself: a failed insert's text lists every value of the batch.
    ctx.log.warn({ sqlState: sqlState(error), conversations: batches.size, sends: sends.length }, "send batch failed; committing its sends on their own");
    const parts = batches.size > 1 ? [...batches].map(([id, batch]) => new Map([[id, batch]])) : [...batches].flatMap(([id, batch]) => batch.map((p) => new Map([[id, [p]]])));
    for (const part of parts) await commitIsolated(ctx, part);
    return;
  }
  // Conversations without a row yet, each in a transaction of its own (rare: first messages).
  for (const id of unlocked) {
    const batch = batches.get(id) ?? [];
    try {
      await commitNew(ctx, id, batch);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(sendError(error));
        continue;
      }
      for (const p of batch) await commitNew(ctx, id, [p]).catch((e: unknown) => p.reject(sendError(e)));
    }
  }
}

/** A value the database refused is the sender's bad input; anything else stays what it is. */
const sendError = (error: unknown): unknown => (isDataException(error) ? badRequest() : error);

/** One transaction for every conversation of the batch that has a row; returns those that have none. */
async function commitBatch(ctx: DomainContext, batches: Map<string, Queued[]>): Promise<string[]> {
  const settled: Array<() => void> = [];
  const unlocked = await transact(ctx, async (tx, outbox) => {
    settled.length = 0;
    const admitted = await admit(tx, batches);
    const accepted = [...admitted.admissions].map(([id, admission]) => ({ id, admission, sends: decide(ctx, id, batches.get(id) ?? [], admission, settled) }));
    await persist(tx, outbox, accepted, settled);
    return admitted.unlocked;
  });
  // Only after the commit: a caller must never see a message that could still roll back.
  for (const settle of settled) settle();
  return unlocked;
}

async function commitNew(ctx: DomainContext, id: string, batch: Queued[]): Promise<void> {
  const settled: Array<() => void> = [];
  await transact(ctx, async (tx, outbox) => {
    settled.length = 0;
    const admission = await admitNew(tx, id, batch);
    await persist(tx, outbox, [{ id, admission, sends: decide(ctx, id, batch, admission, settled) }], settled);
  });
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

/** A message as written: everything but what the database assigns (stream id, time). */
/** A new message's row: never recalled yet. */
type NewMessage = Omit<MessageView, "id" | "createdAt" | "recalledAt" | "recalledBy">;

/** The one builder of a message row, for group and private messages. */
function messageRow(conversationId: string, seq: number, p: PendingSend, sender: Sender): NewMessage {
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
    mentionedUserIds: group ? mentionsOf(input.mentionedUserIds, p.senderId) : [],
    mentionAll: group ? input.mentionAll : false,
    clientMsgId: input.clientMsgId ?? null,
  };
}

/**
 * The ids a group message mentions, as stored: each once, in the order given, never the sender
 * (a mention of oneself means nothing). Ids that are not active members are kept: dropping them
 * would cost the send a statement, and every count reads mentions from the viewer's side, which
 * only ever sees the groups it is an active member of (see sessions/list.ts). A send without
 * mentions does nothing here.
 */
function mentionsOf(ids: string[], senderId: string): string[] {
  if (ids.length === 0) return ids;
  return [...new Set(ids)].filter((id) => id !== senderId);
}

/** The columns a send writes, in one order; the rest (id, tx, created_at, status) are the database's. */
const WRITTEN = [
  "uuid", "conversationId", "seq", "sessionId", "type", "content", "url", "sendId", "sendName", "sendAvatar",
  "receiveId", "fileType", "fileName", "fileSize", "mentionedUserIds", "mentionAll", "clientMsgId",
] as const satisfies ReadonlyArray<keyof NewMessage>;
// Compile-time check: every field of NewMessage is written.
const everyFieldWritten: Exclude<keyof NewMessage, (typeof WRITTEN)[number]> extends never ? true : never = true;
void everyFieldWritten;

const messageColumns = getTableColumns(messages);
const writtenNames = sql.join(WRITTEN.map((k) => sql.identifier(messageColumns[k].name)), sql`, `);
/** The record type jsonb_to_recordset reads the rows as: each column with its own SQL type. */
const writtenRecord = sql.raw(WRITTEN.map((k) => `"${messageColumns[k].name}" ${messageColumns[k].getSQLType()}`).join(", "));

/**
 * One INSERT of every message of the batch, the rows going in as one jsonb parameter: a few
 * hundred rows cost one parameter to bind instead of thousands, and no per-value query building.
 * Returns each row's stream id and time by uuid.
 */
async function insertMessages(tx: Tx, values: NewMessage[]): Promise<Map<string, { id: number; createdAt: Date }>> {
  const records = values.map((v) => Object.fromEntries(WRITTEN.map((k) => [messageColumns[k].name, v[k]])));
  const rows = await queryRows<{ id: number | string; uuid: string; created_ms: number | string }>(
    tx,
    sql`
      insert into ${messages} (${writtenNames})
      select ${writtenNames} from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as v(${writtenRecord})
      returning ${messages.id} as id, ${messages.uuid} as uuid, extract(epoch from ${messages.createdAt}) * 1000 as created_ms`,
  );
  return new Map(rows.map((r) => [r.uuid, { id: Number(r.id), createdAt: new Date(Number(r.created_ms)) }]));
}

/**
 * Three statements whatever the number of sends and conversations: the conversations (seq and
 * preview), the senders' read positions, the messages. Queues each caller's answer in `settled`.
 */
async function persist(
  tx: Tx,
  outbox: Outbox,
  batches: Array<{ id: string; admission: Admission; sends: Accepted[] }>,
  settled: Array<() => void>,
): Promise<void> {
  const owners = batches.flatMap(({ sends }) => sends);
  const values = batches.flatMap(({ id, admission, sends }) => sends.map((a, i) => messageRow(id, admission.lastSeq + i + 1, a.pending, a.sender)));
  if (values.length === 0) return;
  // Per conversation, its last message; per (conversation, sender), the sender's last seq there.
  const heads = new Map(values.map((v) => [v.conversationId, v]));
  const readUpTo = new Map(values.map((v) => [`${v.conversationId}\u0000${v.sendId}`, { cid: v.conversationId, uid: v.sendId, seq: v.seq }]));
  const bumps = [...heads.values()].map((v) => ({ id: v.conversationId, seq: v.seq, preview: previewOf(v.type, v.content), uuid: v.uuid }));
  // One statement for the conversations' seqs and previews and the senders' read positions (their
  // sessions reappear if they had hidden them), sent together with the insert: one round trip.
  const bump = queryRows(
    tx,
    sql`
    with bumped as (
      update ${conversations}
      set ${sql.identifier(conversations.lastSeq.name)} = v.seq,
          ${sql.identifier(conversations.lastMessage.name)} = v.preview,
          ${sql.identifier(conversations.lastMessageId.name)} = v.uuid,
          ${sql.identifier(conversations.lastMessageAt.name)} = now()
      from jsonb_to_recordset(${JSON.stringify(bumps)}::jsonb) as v(id text, seq bigint, preview text, uuid text)
      where ${conversations.id} = v.id
      returning 1
    )
    update ${sessions}
    set ${sql.identifier(sessions.readSeq.name)} = greatest(${sessions.readSeq}, r.seq),
        ${sql.identifier(sessions.hiddenSeq.name)} = null,
        ${sql.identifier(sessions.updatedAt.name)} = now()
    from jsonb_to_recordset(${JSON.stringify([...readUpTo.values()])}::jsonb) as r(cid text, uid text, seq bigint)
    where ${sessions.conversationId} = r.cid and ${sessions.sendId} = r.uid`,
  );
  const [, stored] = await Promise.all([bump, insertMessages(tx, values)]);
  const messagesInOrder = values.map((v, i): MessageView => {
    const row = stored.get(v.uuid);
    const a = owners[i];
    if (!row || !a) throw new Error("message insert returned fewer rows than it was given");
    const message: MessageView = { ...v, ...row, recalledAt: null, recalledBy: null };
    settled.push(() => a.pending.resolve({ message, duplicate: false }));
    for (const twin of a.twins) settled.push(() => twin.resolve({ message, duplicate: true }));
    return message;
  });
  // Publication follows each conversation's order (values are in seq order per conversation).
  for (const message of messagesInOrder) outbox.message(message);
}
