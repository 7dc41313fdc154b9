import { conversations, sessions, type Queryable, type Tx } from "@omnilink/db";
import { and, eq, inArray, sql } from "drizzle-orm";
import { newId } from "../ids.js";

/** Creates the conversation row if it does not exist yet (groups: id = group uuid; pairs: privateConversationId). */
export async function ensureConversation(q: Queryable, id: string, kind: 0 | 1): Promise<void> {
  await q.insert(conversations).values({ id, kind }).onConflictDoNothing();
}

/**
 * Row-locks conversations for the rest of the transaction, in id order (the one order every
 * transaction that locks several uses). Returns those that exist, with their last seq.
 */
export async function lockConversations(tx: Tx, ids: string[]): Promise<Array<{ id: string; lastSeq: number }>> {
  return await tx
    .select({ id: conversations.id, lastSeq: conversations.lastSeq })
    .from(conversations)
    .where(inArray(conversations.id, ids))
    .orderBy(conversations.id)
    .for("update");
}

/**
 * Row-locks a conversation for the rest of the transaction. Every transaction that changes a
 * group's membership, or sends into a conversation, takes this lock first (after any apply-row
 * lock), so sends and membership changes of one group are serialised.
 * Returns the conversation's last seq.
 */
export async function lockConversation(tx: Tx, id: string): Promise<number | undefined> {
  const [row] = await tx.select({ lastSeq: conversations.lastSeq }).from(conversations).where(eq(conversations.id, id)).for("update");
  return row?.lastSeq;
}

export interface SessionSeed {
  ownerId: string;
  peerId: string;
  conversationId: string;
  /** Snapshot of the peer's (or group's) name and avatar, used when the row is created. */
  name: string;
  avatar: string;
  /**
   * Read position for a new member (usually the conversation's last_seq, so history from before
   * joining does not count as unread). On an existing row it only ever moves read_seq forward.
   */
  readSeq?: number;
  /** False: leave an existing row alone (e.g. the peer's side of a chat I open must stay hidden if they hid it). */
  reveal?: boolean;
}

/**
 * Creates the viewer's session, or makes an existing one visible again. Idempotent and safe under
 * concurrency (UNIQUE(send_id, receive_id) + ON CONFLICT). Returns the session uuid.
 */
export async function ensureSession(q: Queryable, seed: SessionSeed & { reveal?: true }): Promise<string>;
export async function ensureSession(q: Queryable, seed: SessionSeed & { reveal: false }): Promise<undefined>;
export async function ensureSession(q: Queryable, seed: SessionSeed): Promise<string | undefined> {
  const readSeq = seed.readSeq ?? 0;
  const insert = q
    .insert(sessions)
    .values({
      uuid: newId("S"),
      sendId: seed.ownerId,
      receiveId: seed.peerId,
      conversationId: seed.conversationId,
      receiveName: seed.name.slice(0, 64),
      avatar: seed.avatar,
      readSeq,
    });
  if (seed.reveal === false) {
    await insert.onConflictDoNothing();
    return undefined;
  }
  const [row] = await insert
    .onConflictDoUpdate({
      target: [sessions.sendId, sessions.receiveId],
      set: { hiddenSeq: null, readSeq: sql`greatest(${sessions.readSeq}, ${readSeq})`, updatedAt: sql`now()` },
    })
    .returning({ uuid: sessions.uuid });
  if (!row) throw new Error("session upsert returned no row");
  return row.uuid;
}

/** The viewer's session for a peer or group, if any. */
export async function findSession(q: Queryable, ownerId: string, peerId: string) {
  const [row] = await q
    .select()
    .from(sessions)
    .where(and(eq(sessions.sendId, ownerId), eq(sessions.receiveId, peerId)))
    .limit(1);
  return row;
}
