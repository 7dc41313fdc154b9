import { ApplyStatus, ContactStatus, ContactType, contactApplies, contacts, users } from "@omnilink/db";
import { and, eq, sql } from "drizzle-orm";
import type { DomainContext } from "../context.js";
import { newId } from "../ids.js";
import { transact } from "../realtime/outbox.js";
import { appliesBetween, edgesBetween, friendship, hasStrangerBlockMark, lockFriendPair, setFriendEdge } from "./pair.js";
import type { BlockContactInput } from "./schemas.js";
import { ContactErrors } from "./texts.js";

/*
 * Blocking (`/contact/blackContact`, never registered by the legacy server) uses the legacy
 * statuses: my row 1 ("I blocked them"), theirs 2 ("they blocked me"). When both block, both rows
 * are 1. Every check that reads these statuses (apply, open session, send, history) then refuses
 * with its legacy text.
 *
 * Those statuses cannot say whether the two were friends before, and an unblock must not turn a
 * stranger into a friend. So a block between non-friends also marks the blocked user's request to
 * the blocker as blacklisted (apply status 3, created if missing). While that mark exists the pair
 * were strangers; the last unblock then removes both rows and turns the mark into a refusal,
 * instead of restoring a friendship. A block between friends leaves no mark, and the last unblock
 * makes both rows normal again.
 */

/** Blocks `targetId`. Blocking someone already blocked is a no-op. */
export async function blockContact(ctx: DomainContext, userId: string, input: BlockContactInput): Promise<{ changed: boolean }> {
  const targetId = input.targetId.trim();
  if (!targetId || !userId) throw ContactErrors.badParams();
  if (targetId === userId) throw ContactErrors.blockSelf();
  const [target] = await ctx.db.select({ uuid: users.uuid }).from(users).where(eq(users.uuid, targetId)).limit(1);
  if (!target) throw ContactErrors.userNotFound();

  return transact(ctx, async (tx, outbox) => {
    await lockFriendPair(tx, userId, targetId);
    const mine = await friendship(tx, userId, targetId);
    if (mine === ContactStatus.blockedByMe) return { changed: false };
    // Friends now, or friends under their block of me (no mark); anything else is strangers.
    const strangers =
      mine === ContactStatus.blockedMe ? await hasStrangerBlockMark(tx, userId, targetId) : mine !== ContactStatus.normal;

    await setFriendEdge(tx, userId, targetId, ContactStatus.blockedByMe);
    // If they block me too (mine was 2, theirs is 1), their row keeps saying so.
    if (mine !== ContactStatus.blockedMe) await setFriendEdge(tx, targetId, userId, ContactStatus.blockedMe);

    if (strangers) {
      // Pending requests either way are answered by the block.
      await tx
        .update(contactApplies)
        .set({ status: ApplyStatus.blacklisted, decidedBy: userId, decidedAt: sql`now()` })
        .where(and(appliesBetween(userId, targetId), eq(contactApplies.status, ApplyStatus.pending)));
      await tx
        .insert(contactApplies)
        .values({
          uuid: newId("A"),
          userId: targetId,
          contactId: userId,
          contactType: ContactType.user,
          status: ApplyStatus.blacklisted,
          decidedBy: userId,
          decidedAt: sql`now()`,
        })
        .onConflictDoUpdate({
          target: [contactApplies.userId, contactApplies.contactId, contactApplies.contactType],
          set: { status: ApplyStatus.blacklisted, decidedBy: userId, decidedAt: sql`now()` },
        });
    }
    // Its stream position is where the block takes effect: nothing of theirs reaches me after it.
    await outbox.event("contact.blocked", { userIds: [userId] }, { by: userId, userId: targetId });
    return { changed: true };
  });
}

/**
 * Lifts my block of `targetId`. If they still block me, my row becomes "they blocked me";
 * otherwise the pair returns to what it was before the blocks: friends, or no relation at all.
 */
export async function unblockContact(ctx: DomainContext, userId: string, input: BlockContactInput): Promise<{ changed: boolean }> {
  const targetId = input.targetId.trim();
  if (!targetId || !userId) throw ContactErrors.badParams();
  if (targetId === userId) throw ContactErrors.notBlocked();

  return transact(ctx, async (tx, outbox) => {
    await lockFriendPair(tx, userId, targetId);
    const mine = await friendship(tx, userId, targetId);
    if (mine !== ContactStatus.blockedByMe) throw ContactErrors.notBlocked();
    const theirs = await friendship(tx, targetId, userId);

    if (theirs === ContactStatus.blockedByMe) {
      await setFriendEdge(tx, userId, targetId, ContactStatus.blockedMe);
    } else if (await hasStrangerBlockMark(tx, userId, targetId)) {
      await tx.delete(contacts).where(edgesBetween(userId, targetId));
      await tx
        .update(contactApplies)
        .set({ status: ApplyStatus.rejected })
        .where(and(appliesBetween(userId, targetId), eq(contactApplies.status, ApplyStatus.blacklisted)));
    } else {
      await setFriendEdge(tx, userId, targetId, ContactStatus.normal);
      await setFriendEdge(tx, targetId, userId, ContactStatus.normal);
    }
    await outbox.event("contact.unblocked", { userIds: [userId] }, { by: userId, userId: targetId });
    return { changed: true };
  });
}
