import { ApplyStatus, ContactStatus, ContactType, contactApplies, groups, users } from "@omnilink/db";
import { eq, sql } from "drizzle-orm";
import { isUsableAccount } from "../access.js";
import type { DomainContext } from "../context.js";
import { applyToJoinGroup } from "../groups/index.js";
import { requestDeciders } from "../groups/membership.js";
import { isGroupId, newId } from "../ids.js";
import { transact } from "../realtime/outbox.js";
import { friendship, lockFriendPair } from "./pair.js";
import type { ApplyContactInput, ApplyFriendInput } from "./schemas.js";
import { ContactErrors } from "./texts.js";

export interface ApplyContactResult {
  applyId: string;
  kind: "friend" | "join";
  /** The user asked to be a friend, or the group asked to be joined. */
  targetId: string;
  /** Who gets the legacy `contact.apply` push: the target user, or the group's owner and admins (legacy-contract D6, D28). */
  notify: string[];
}

/**
 * `/contact/applyContact` (legacy-contract §2.8): the id decides the kind, as in the legacy server
 * (G… is a group, anything else a user); the legacy `contact_type` field is ignored.
 */
export async function applyContact(ctx: DomainContext, userId: string, input: ApplyContactInput): Promise<ApplyContactResult> {
  const contactId = input.contactId.trim();
  const message = (input.message ?? "").trim();
  if (!contactId || !userId) throw ContactErrors.badParams();
  if (contactId === userId) throw ContactErrors.applySelf();
  if (!isGroupId(contactId)) {
    const { applyId } = await applyFriend(ctx, userId, { targetId: contactId, message });
    return { applyId, kind: "friend", targetId: contactId, notify: [contactId] };
  }
  const { applyId } = await applyToJoinGroup(ctx, userId, { groupId: contactId, message });
  // The legacy server pushed to the group id, which nobody listens on; the owner and admins decide (legacy-contract D6, D28).
  const [group] = await ctx.db.select({ uuid: groups.uuid, ownerId: groups.ownerId }).from(groups).where(eq(groups.uuid, contactId)).limit(1);
  return { applyId, kind: "join", targetId: contactId, notify: group ? await requestDeciders(ctx.db, group) : [] };
}

/**
 * A friend request (legacy-contract §2.8, user branch). There is one apply row per (applicant, target):
 * re-applying resets it to pending with the new message and keeps its uuid, and the upsert makes
 * concurrent applies leave exactly one row.
 */
export async function applyFriend(ctx: DomainContext, userId: string, input: ApplyFriendInput): Promise<{ applyId: string }> {
  const targetId = input.targetId.trim();
  const message = (input.message ?? "").trim();
  if (!targetId || !userId) throw ContactErrors.badParams();
  if (targetId === userId) throw ContactErrors.applySelf();
  const [target] = await ctx.db.select({ status: users.status }).from(users).where(eq(users.uuid, targetId)).limit(1);
  if (!target) throw ContactErrors.userNotFound();
  if (!isUsableAccount(target.status)) throw ContactErrors.userUnavailable();

  return transact(ctx, async (tx, outbox) => {
    // Under the pair lock, so a concurrent block or approval cannot slip between check and write.
    await lockFriendPair(tx, userId, targetId);
    const mine = await friendship(tx, userId, targetId);
    if (mine === ContactStatus.normal) throw ContactErrors.alreadyFriends();
    if (mine === ContactStatus.blockedByMe) throw ContactErrors.iBlockedThem();
    if (mine === ContactStatus.blockedMe) throw ContactErrors.theyBlockedMe();

    const [row] = await tx
      .insert(contactApplies)
      .values({ uuid: newId("A"), userId, contactId: targetId, contactType: ContactType.user, status: ApplyStatus.pending, message })
      .onConflictDoUpdate({
        target: [contactApplies.userId, contactApplies.contactId, contactApplies.contactType],
        set: { status: ApplyStatus.pending, message, lastApplyAt: sql`now()`, decidedBy: null, decidedAt: null },
      })
      .returning({ uuid: contactApplies.uuid });
    if (!row) throw new Error("contact_apply upsert returned no row");

    await outbox.event(
      "request.created",
      { groupId: null, userIds: [targetId] },
      { applyId: row.uuid, kind: "friend", applicantId: userId, targetId, message, invitedBy: null },
    );
    return { applyId: row.uuid };
  });
}
