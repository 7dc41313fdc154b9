import { ContactType, contacts, groups, messages, sessions, users, type Tx } from "@omnilink/db";
import { and, eq, inArray, sql } from "drizzle-orm";
import { isNormalGroup, isUsableAccount, maySendToGroup, privateRefusal } from "../access.js";
import { type AppError, badRequest, forbidden, notFound } from "../errors.js";
import type { MessageView } from "../realtime/events.js";
import { messageViewColumns } from "../realtime/stream-queries.js";
import { ensureConversation, lockConversation } from "../sessions/ensure.js";
import { lockFriendPairShared } from "../contacts/pair.js";
import type { SendMessageInput } from "./schemas.js";

/** One send waiting in a conversation's queue. */
export interface PendingSend {
  senderId: string;
  input: SendMessageInput;
  /** Set once the send has taken a token from the group's budget, so a retry does not take another. */
  charged?: boolean;
}

/** What the persisted row needs to know about an admitted sender. */
export interface Sender {
  name: string;
  avatar: string;
  /** Legacy: the sender's session uuid for private messages, "" for group messages. */
  sessionId: string;
}

/** The verdict on one send, read under the conversation's lock. */
export type Verdict = { ok: true; sender: Sender } | { ok: false; error: AppError };

export interface Admission {
  /** The conversation's last seq, as locked. */
  lastSeq: number;
  verdicts: Verdict[];
  /** Messages already stored under the batch's client ids, keyed by `clientKey`. */
  earlier: Map<string, MessageView>;
}

/** The idempotency key of a send: its sender and client id. */
export const clientKey = (senderId: string, clientMsgId: string | undefined): string | undefined =>
  clientMsgId ? `${senderId}\u0000${clientMsgId}` : undefined;

/*
 * Admission runs in the batch's transaction, and its reads are separate statements issued AFTER
 * the statement that takes the lock. Under READ COMMITTED each statement reads a snapshot taken
 * when it starts, so these reads see every change committed before the lock was granted, and no
 * change they depend on can commit before this transaction does:
 *   - a group's membership, status and owner change only in transactions that first lock the
 *     group's conversation row (lockGroup), the same row this batch locks;
 *   - a pair's friendship and blocks change only under the pair's exclusive advisory lock, which
 *     this batch holds in shared mode (sends of one pair do not wait for each other on it).
 * A single statement that locks one table and joins the others would not do: when it waits for
 * the row lock, PostgreSQL re-checks only the locked row and keeps the joined rows it read
 * before the wait. The statements are issued together (pipelined by the driver), so the
 * separation costs no round trip.
 */

/** Locks the group's conversation, then reads the group and every sender's membership. */
export async function admitGroup(tx: Tx, groupId: string, batch: PendingSend[]): Promise<Admission> {
  const senderIds = [...new Set(batch.map((p) => p.senderId))];
  const [locked, rows, earlier] = await Promise.all([
    lockConversation(tx, groupId),
    tx
      .select({
        groupStatus: groups.status,
        uuid: users.uuid,
        name: users.nickname,
        username: users.username,
        avatar: users.avatar,
        memberStatus: contacts.status,
      })
      .from(groups)
      .leftJoin(users, inArray(users.uuid, senderIds))
      .leftJoin(contacts, and(eq(contacts.userId, users.uuid), eq(contacts.contactId, groups.uuid), eq(contacts.contactType, ContactType.group)))
      .where(eq(groups.uuid, groupId)),
    storedByClientId(tx, groupId, batch),
  ]);
  const head = rows[0];
  let lastSeq = locked;
  if (head && lastSeq === undefined) {
    // Only groups that predate conversations lack the row: make it, then lock it.
    await ensureConversation(tx, groupId, 1);
    lastSeq = await lockConversation(tx, groupId);
  }
  const verdicts = batch.map((p): Verdict => {
    // Legacy group-path checks, in the legacy order and texts.
    if (!head) return { ok: false, error: notFound("群组不存在") };
    if (!isNormalGroup({ status: head.groupStatus })) return { ok: false, error: forbidden("群组状态异常") };
    const sender = rows.find((r) => r.uuid === p.senderId);
    if (!sender) return { ok: false, error: forbidden("用户异常") };
    if (sender.memberStatus === null) return { ok: false, error: forbidden("非群成员，无法发送消息") };
    if (!maySendToGroup(sender.memberStatus)) return { ok: false, error: forbidden("无权发送消息") };
    return { ok: true, sender: { name: sender.name || sender.username || "", avatar: sender.avatar ?? "", sessionId: "" } };
  });
  return { lastSeq: lastSeq ?? 0, verdicts, earlier };
}

/**
 * Takes the pair's lock (shared) and the conversation's row lock, then reads, for each of the two
 * users, their friend row towards the other, their account and both sessions. The conversation
 * row is created on the first message that passes the checks.
 */
export async function admitPrivate(tx: Tx, conversationId: string, batch: PendingSend[]): Promise<Admission> {
  const [a, b] = conversationId.split(":") as [string, string];
  const peerSql = sql`(case when ${users.uuid} = ${a} then ${b} else ${a} end)`;
  const [, locked, rows, earlier] = await Promise.all([
    lockFriendPairShared(tx, a, b),
    lockConversation(tx, conversationId),
    tx
      .select({
        uuid: users.uuid,
        name: users.nickname,
        username: users.username,
        avatar: users.avatar,
        status: users.status,
        friendStatus: contacts.status,
        mySession: sql<string | null>`(select ${sessions.uuid} from ${sessions} where ${sessions.sendId} = ${users.uuid} and ${sessions.receiveId} = ${peerSql})`,
        theirSession: sql<string | null>`(select ${sessions.uuid} from ${sessions} where ${sessions.sendId} = ${peerSql} and ${sessions.receiveId} = ${users.uuid})`,
      })
      .from(users)
      .leftJoin(contacts, and(eq(contacts.userId, users.uuid), eq(contacts.contactId, peerSql), eq(contacts.contactType, ContactType.user)))
      .where(inArray(users.uuid, [a, b])),
    storedByClientId(tx, conversationId, batch),
  ]);
  const verdicts = batch.map((p): Verdict => {
    // Legacy private-path checks after the input checks, in the legacy order and texts.
    const row = rows.find((r) => r.uuid === p.senderId);
    const refusal = privateRefusal(row?.friendStatus, "send");
    if (!row || refusal) return { ok: false, error: refusal ?? forbidden("无权发送消息") };
    if (!row.mySession) return { ok: false, error: badRequest("会话不存在，请先创建会话") };
    if (p.input.sessionId && p.input.sessionId !== row.mySession) return { ok: false, error: badRequest("session_id 不匹配") };
    if (!row.theirSession) return { ok: false, error: badRequest("对方会话不存在，请对方先创建会话") };
    if (!isUsableAccount(row.status)) return { ok: false, error: forbidden("用户状态异常，无法发送消息") };
    return { ok: true, sender: { name: row.name || row.username, avatar: row.avatar, sessionId: row.mySession } };
  });
  let lastSeq = locked;
  if (lastSeq === undefined && verdicts.some((v) => v.ok)) {
    await ensureConversation(tx, conversationId, 0);
    lastSeq = await lockConversation(tx, conversationId);
  }
  return { lastSeq: lastSeq ?? 0, verdicts, earlier };
}

/** Messages already stored in the conversation under the batch's client ids (retries). */
async function storedByClientId(tx: Tx, conversationId: string, batch: PendingSend[]): Promise<Map<string, MessageView>> {
  const clientIds = [...new Set(batch.flatMap((p) => (p.input.clientMsgId ? [p.input.clientMsgId] : [])))];
  if (clientIds.length === 0) return new Map();
  const rows = await tx
    .select(messageViewColumns)
    .from(messages)
    .where(and(eq(messages.conversationId, conversationId), inArray(messages.clientMsgId, clientIds)));
  return new Map(rows.map((m) => [clientKey(m.sendId, m.clientMsgId ?? undefined) ?? "", m]));
}
