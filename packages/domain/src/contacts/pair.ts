import { ApplyStatus, ContactType, contactApplies, contacts, type Queryable, type Tx } from "@omnilink/db";
import { and, eq, or, sql } from "drizzle-orm";
import { privateConversationId } from "../ids.js";

/**
 * Class id of the transaction-scoped advisory locks that serialise changes to one pair of users.
 * The two-key form of pg_advisory_xact_lock has its own key space, so it cannot collide with the
 * one-key stream and migration locks.
 */
const FRIEND_PAIR_LOCK_CLASS = 72_841_130;

/**
 * Serialises every change to the friend edges of a pair (apply, approve, reject, delete, block,
 * unblock), whoever of the two acts. Each of those reads both rows and then writes both, and the
 * rows may not exist yet (nothing to row-lock), so a lock on the pair is the one that covers all
 * cases; it is the same key whichever user asks. Take it FIRST in the transaction (before the
 * apply-row lock) so these transactions always lock in one order.
 */
export async function lockFriendPair(tx: Tx, a: string, b: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${FRIEND_PAIR_LOCK_CLASS}::int4, hashtext(${privateConversationId(a, b)}::text))`);
}

/**
 * The same lock in shared mode, taken by private sends for every pair (private conversation id)
 * they send to, in id order: a send waits for a change of the pair's friendship or blocks in
 * progress (and holds it off until the send commits), but sends of one pair do not wait for each
 * other on it.
 */
export async function lockFriendPairsShared(tx: Tx, conversationIds: string[]): Promise<void> {
  if (conversationIds.length === 0) return;
  await tx.execute(sql`
    select pg_advisory_xact_lock_shared(${FRIEND_PAIR_LOCK_CLASS}::int4, hashtext(p.id))
    from (select p.id from jsonb_array_elements_text(${JSON.stringify(conversationIds)}::jsonb) as p(id) order by p.id) as p`);
}

/**
 * The status of `userId`'s friend row towards `peerId` (0 friends, 1 I blocked them, 2 they
 * blocked me, 3 I deleted them, 4 they deleted me), or undefined when there is none.
 */
export async function friendship(q: Queryable, userId: string, peerId: string): Promise<number | undefined> {
  const [row] = await q
    .select({ status: contacts.status })
    .from(contacts)
    .where(and(eq(contacts.userId, userId), eq(contacts.contactId, peerId), eq(contacts.contactType, ContactType.user)))
    .limit(1);
  return row?.status;
}

/** Writes `userId`'s friend row towards `peerId` with `status`, creating it if missing. */
export async function setFriendEdge(q: Queryable, userId: string, peerId: string, status: number): Promise<void> {
  await q
    .insert(contacts)
    .values({ userId, contactId: peerId, contactType: ContactType.user, status })
    .onConflictDoUpdate({
      target: [contacts.userId, contacts.contactId, contacts.contactType],
      set: { status, updatedAt: sql`now()` },
    });
}

/** Both friend rows of a pair. */
export function edgesBetween(a: string, b: string) {
  return and(
    eq(contacts.contactType, ContactType.user),
    or(and(eq(contacts.userId, a), eq(contacts.contactId, b)), and(eq(contacts.userId, b), eq(contacts.contactId, a))),
  );
}

/** Friend applies in either direction between two users. */
export function appliesBetween(a: string, b: string) {
  return and(
    eq(contactApplies.contactType, ContactType.user),
    or(and(eq(contactApplies.userId, a), eq(contactApplies.contactId, b)), and(eq(contactApplies.userId, b), eq(contactApplies.contactId, a))),
  );
}

/**
 * A blacklisted apply (status 3) between two users marks a block between users who were NOT
 * friends when it began (see block.ts): user_contact has no status for "blocked, and not friends",
 * so without this mark an unblock could not tell whether to restore a friendship or not.
 */
export async function hasStrangerBlockMark(q: Queryable, a: string, b: string): Promise<boolean> {
  const count = await q.$count(contactApplies, and(appliesBetween(a, b), eq(contactApplies.status, ApplyStatus.blacklisted)));
  return count > 0;
}
