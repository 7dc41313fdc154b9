import { ApplyStatus, ContactStatus, ContactType, contactApplies, type Tx } from "@omnilink/db";
import { and, eq, sql } from "drizzle-orm";
import type { DomainContext } from "../context.js";
import { approveJoinRequest, rejectJoinRequest } from "../groups/index.js";
import { privateConversationId } from "../ids.js";
import { transact } from "../realtime/outbox.js";
import { ensureConversation } from "../sessions/ensure.js";
import { friendship, lockFriendPair, setFriendEdge } from "./pair.js";
import { ContactErrors } from "./texts.js";

export interface DecisionResult {
  /** False when the apply already had the requested outcome (an idempotent repeat). */
  changed: boolean;
}

/** The immutable part of an apply: who applied to what, and of which kind. */
async function findApply(ctx: DomainContext, applyId: string) {
  if (!applyId) throw ContactErrors.badParams();
  const [row] = await ctx.db
    .select({ userId: contactApplies.userId, contactId: contactApplies.contactId, contactType: contactApplies.contactType })
    .from(contactApplies)
    .where(eq(contactApplies.uuid, applyId))
    .limit(1);
  if (!row) throw ContactErrors.applyNotFound();
  return row;
}

/**
 * `/contact/passContactApply` (legacy-contract §2.10): friend requests here, join requests in the groups
 * module. A join decision resolves to the groups module's richer result (a superset of this one).
 */
export async function approveApply(ctx: DomainContext, userId: string, applyId: string): Promise<DecisionResult> {
  const id = applyId.trim();
  const apply = await findApply(ctx, id);
  if (apply.contactType === ContactType.group) return approveJoinRequest(ctx, userId, id);
  if (apply.contactType === ContactType.user) return approveFriend(ctx, userId, id);
  throw ContactErrors.unsupportedApplyType();
}

/** `/contact/refuseContactApply` (legacy-contract §2.11). */
export async function rejectApply(ctx: DomainContext, userId: string, applyId: string): Promise<DecisionResult> {
  const id = applyId.trim();
  const apply = await findApply(ctx, id);
  if (apply.contactType === ContactType.group) return rejectJoinRequest(ctx, userId, id);
  if (apply.contactType === ContactType.user) return rejectFriend(ctx, userId, id);
  throw ContactErrors.unsupportedApplyType();
}

/**
 * Checks that the friend request exists and is addressed to `userId` (before any status, so
 * nobody else learns an outcome: the legacy server answered 200 to anyone for an already-passed
 * apply). Runs before the transaction: on PGlite a query outside an open transaction would wait
 * for it. The fields it reads never change after the insert.
 */
async function findFriendApply(ctx: DomainContext, userId: string, applyId: string) {
  const apply = await findApply(ctx, applyId);
  if (apply.contactType !== ContactType.user) throw ContactErrors.unsupportedApplyType();
  if (apply.contactId !== userId) throw ContactErrors.applyNotMine();
  return apply.userId;
}

/**
 * Takes the pair lock, then the apply row lock (pair first: every friend-edge transaction starts
 * with it, see lockFriendPair), and returns the apply's current status.
 */
async function lockFriendApply(tx: Tx, userId: string, applicantId: string, applyId: string): Promise<number> {
  await lockFriendPair(tx, applicantId, userId);
  const [row] = await tx.select({ status: contactApplies.status }).from(contactApplies).where(eq(contactApplies.uuid, applyId)).for("update");
  if (!row) throw ContactErrors.applyNotFound();
  return row.status;
}

/**
 * Decides a friend request addressed to `userId`. Approving makes the apply approved and both
 * friend rows normal (re-activating rows in any state, legacy), and creates the private
 * conversation; the sessions are not (legacy: the first openSession creates both). Refusing
 * (legacy-contract §2.11) leaves a request that can still be approved later (legacy). Deciding it
 * the way it already went changes nothing.
 */
async function decideFriend(ctx: DomainContext, userId: string, applyId: string, approve: boolean): Promise<DecisionResult> {
  const id = applyId.trim();
  if (!id) throw ContactErrors.badParams();
  const applicantId = await findFriendApply(ctx, userId, id);
  const outcome = approve ? ApplyStatus.approved : ApplyStatus.rejected;
  return transact(ctx, async (tx, outbox) => {
    const status = await lockFriendApply(tx, userId, applicantId, id);
    if (status === outcome) return { changed: false };
    if (status === ApplyStatus.blacklisted) throw ContactErrors.applyBlacklisted();
    if (!approve && status === ApplyStatus.approved) throw ContactErrors.alreadyApproved();
    if (approve) {
      // A block between the two stands until it is lifted; approving must not silently undo it.
      const mine = await friendship(tx, userId, applicantId);
      if (mine === ContactStatus.blockedByMe) throw ContactErrors.iBlockedThem();
      if (mine === ContactStatus.blockedMe) throw ContactErrors.theyBlockedMe();
    }

    const decided = { status: outcome, decidedBy: userId, decidedAt: sql`now()` };
    await tx.update(contactApplies).set(decided).where(eq(contactApplies.uuid, id));
    if (approve) {
      // My own pending request to the applicant is answered by this friendship too; left pending
      // it would sit in their list as a request that can only re-confirm what already holds.
      await tx
        .update(contactApplies)
        .set(decided)
        .where(
          and(
            eq(contactApplies.userId, userId),
            eq(contactApplies.contactId, applicantId),
            eq(contactApplies.contactType, ContactType.user),
            eq(contactApplies.status, ApplyStatus.pending),
          ),
        );
      await setFriendEdge(tx, applicantId, userId, ContactStatus.normal);
      await setFriendEdge(tx, userId, applicantId, ContactStatus.normal);
      await ensureConversation(tx, privateConversationId(applicantId, userId), 0);
    }

    await outbox.event(
      "request.decided",
      { groupId: null, userIds: [applicantId, userId] },
      { applyId: id, kind: "friend", applicantId, targetId: userId, approved: approve, by: userId },
    );
    return { changed: true };
  });
}

/** Accepts a friend request addressed to `userId` (see decideFriend). */
export const approveFriend = (ctx: DomainContext, userId: string, applyId: string) => decideFriend(ctx, userId, applyId, true);

/** Refuses a friend request addressed to `userId` (see decideFriend). */
export const rejectFriend = (ctx: DomainContext, userId: string, applyId: string) => decideFriend(ctx, userId, applyId, false);
