import { ContactStatus, ContactType, contacts, groups, type Tx } from "@omnilink/db";
import { and, eq, sql } from "drizzle-orm";
import { isActiveMembership, isGroupOwner, isNormalGroup } from "../access.js";
import type { DomainContext } from "../context.js";
import { transact } from "../realtime/outbox.js";
import { getMembership, lockGroup, type GroupRow } from "./membership.js";
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
 * Mutes (status 5: still receives, cannot send) or unmutes (0) an active member. Asking for the
 * state the member is already in changes nothing and emits nothing.
 */
export async function setMemberMuted(ctx: DomainContext, ownerId: string, input: SetMemberMutedInput): Promise<{ changed: boolean }> {
  return transact(ctx, async (tx, outbox) => {
    const group = await ownedNormalGroup(tx, input.groupId, ownerId, GroupErrors.muteNotOwner);
    if (input.userId === group.ownerId) throw GroupErrors.cannotMuteOwner();
    const current = (await getMembership(tx, input.userId, group.uuid))?.status;
    if (!isActiveMembership(current)) throw GroupErrors.targetNotMember();
    const status = input.muted ? ContactStatus.muted : ContactStatus.normal;
    if (current === status) return { changed: false };
    await tx.update(contacts).set({ status, updatedAt: sql`now()` }).where(membershipOf(input.userId, group.uuid));
    const audience = { groupId: group.uuid, userIds: [input.userId] };
    const payload = { userId: input.userId, by: ownerId };
    if (input.muted) await outbox.event("member.muted", audience, payload);
    else await outbox.event("member.unmuted", audience, payload);
    return { changed: true };
  });
}

/** Hands the group to an active member; a muted new owner is unmuted. The old owner stays a member. */
export async function transferOwnership(ctx: DomainContext, ownerId: string, input: TransferOwnershipInput): Promise<void> {
  await transact(ctx, async (tx, outbox) => {
    const group = await ownedNormalGroup(tx, input.groupId, ownerId, GroupErrors.transferNotOwner);
    if (input.newOwnerId === ownerId) throw GroupErrors.transferToSelf();
    const current = (await getMembership(tx, input.newOwnerId, group.uuid))?.status;
    if (!isActiveMembership(current)) throw GroupErrors.targetNotMember();
    await tx.update(groups).set({ ownerId: input.newOwnerId, updatedAt: sql`now()` }).where(eq(groups.uuid, group.uuid));
    if (current === ContactStatus.muted) {
      await tx.update(contacts).set({ status: ContactStatus.normal, updatedAt: sql`now()` }).where(membershipOf(input.newOwnerId, group.uuid));
    }
    await outbox.event(
      "owner.transferred",
      { groupId: group.uuid, userIds: [ownerId, input.newOwnerId] },
      { from: ownerId, to: input.newOwnerId },
    );
  });
}
