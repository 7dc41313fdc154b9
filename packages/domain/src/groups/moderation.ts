import { ContactStatus, ContactType, contacts, groups, MemberRole, type Tx } from "@omnilink/db";
import { and, eq, sql } from "drizzle-orm";
import { hasAdminRole, isActiveMembership, isGroupOwner, isNormalGroup } from "../access.js";
import type { DomainContext } from "../context.js";
import { transact } from "../realtime/outbox.js";
import { getMembership, lockGroup, lockManagedGroup, type GroupRow } from "./membership.js";
import type { SetMemberMutedInput, TransferOwnershipInput } from "./schemas.js";
import { GroupErrors } from "./texts.js";

/** Owner-only write on a normal group, read under the group lock. */
async function ownedNormalGroup(tx: Tx, groupId: string, ownerId: string, notOwner: () => Error): Promise<GroupRow> {
  const { group } = await lockGroup(tx, groupId);
  if (!group) throw GroupErrors.groupNotFound();
  if (!isGroupOwner(group, ownerId)) throw notOwner();
  if (!isNormalGroup(group)) throw GroupErrors.groupClosed();
  return group;
}

const membershipOf = (userId: string, groupId: string) =>
  and(eq(contacts.userId, userId), eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group));

/**
 * The owner or an admin mutes (status 5: still receives, cannot send) or unmutes (0) an active
 * member. An admin may act on ordinary members only (the owner or an admin → 403); the owner may
 * not mute an admin (an admin is never muted: revoke first, ARCHITECTURE.md "Group admins").
 * Asking for the state the member is already in changes nothing and emits nothing.
 */
export async function setMemberMuted(ctx: DomainContext, actorId: string, input: SetMemberMutedInput): Promise<{ changed: boolean }> {
  return transact(ctx, async (tx, outbox) => {
    const { group, isOwner } = await lockManagedGroup(tx, input.groupId, actorId, GroupErrors.muteNotOwner);
    const target = await getMembership(tx, input.userId, group.uuid);
    const targetIsManager = input.userId === group.ownerId || (isActiveMembership(target?.status) && hasAdminRole(target?.role));
    if (!isOwner && targetIsManager) throw GroupErrors.adminCannotTouchManager();
    if (input.userId === group.ownerId) throw GroupErrors.cannotMuteOwner();
    const current = target?.status;
    if (!isActiveMembership(current)) throw GroupErrors.targetNotMember();
    if (input.muted && hasAdminRole(target?.role)) throw GroupErrors.cannotMuteAdmin();
    const status = input.muted ? ContactStatus.muted : ContactStatus.normal;
    if (current === status) return { changed: false };
    await tx.update(contacts).set({ status, updatedAt: sql`now()` }).where(membershipOf(input.userId, group.uuid));
    const audience = { groupId: group.uuid, userIds: [input.userId] };
    const payload = { userId: input.userId, by: actorId };
    if (input.muted) await outbox.event("member.muted", audience, payload);
    else await outbox.event("member.unmuted", audience, payload);
    return { changed: true };
  });
}

/**
 * Hands the group to an active member; a muted new owner is unmuted. The new owner's admin role
 * is cleared (the owner is not an admin) and the old owner stays as an ordinary member, not an
 * admin (ARCHITECTURE.md "Group admins"; legacy-contract D30).
 */
export async function transferOwnership(ctx: DomainContext, ownerId: string, input: TransferOwnershipInput): Promise<void> {
  await transact(ctx, async (tx, outbox) => {
    const group = await ownedNormalGroup(tx, input.groupId, ownerId, GroupErrors.transferNotOwner);
    if (input.newOwnerId === ownerId) throw GroupErrors.transferToSelf();
    if (!isActiveMembership((await getMembership(tx, input.newOwnerId, group.uuid))?.status)) throw GroupErrors.targetNotMember();
    await tx.update(groups).set({ ownerId: input.newOwnerId, updatedAt: sql`now()` }).where(eq(groups.uuid, group.uuid));
    await tx
      .update(contacts)
      .set({ status: ContactStatus.normal, role: MemberRole.member, updatedAt: sql`now()` })
      .where(membershipOf(input.newOwnerId, group.uuid));
    await tx.update(contacts).set({ role: MemberRole.member, updatedAt: sql`now()` }).where(membershipOf(ownerId, group.uuid));
    await outbox.event(
      "owner.transferred",
      { groupId: group.uuid, userIds: [ownerId, input.newOwnerId] },
      { from: ownerId, to: input.newOwnerId },
    );
  });
}
