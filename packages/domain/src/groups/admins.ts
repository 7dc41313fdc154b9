import { ContactType, contacts, groups, MemberRole } from "@omnilink/db";
import { and, eq, sql } from "drizzle-orm";
import { hasAdminRole, isActiveMembership, isGroupOwner, isMuted, isNormalGroup } from "../access.js";
import type { DomainContext } from "../context.js";
import { transact } from "../realtime/outbox.js";
import { activeAdminIds, getMembership, lockGroup, lockManagedGroup } from "./membership.js";
import type { SetGroupAdminInput, SetMuteAllInput } from "./schemas.js";
import { GroupErrors } from "./texts.js";

/**
 * The owner appoints (`admin: true`) or revokes an admin (ARCHITECTURE.md "Group admins").
 * The target must be an active member other than the owner; a muted member cannot be appointed
 * (an admin is never muted: unmute first). At most `limits.maxGroupAdmins` active admins, counted
 * under the group lock, so concurrent appointments cannot pass the limit together. Asking for the
 * role the member already has changes nothing and emits nothing.
 */
export async function setGroupAdmin(ctx: DomainContext, ownerId: string, input: SetGroupAdminInput): Promise<{ changed: boolean }> {
  return transact(ctx, async (tx, outbox) => {
    const { group } = await lockGroup(tx, input.groupId);
    if (!group) throw GroupErrors.groupNotFound();
    if (!isGroupOwner(group, ownerId)) throw GroupErrors.adminNotOwner();
    if (!isNormalGroup(group)) throw GroupErrors.groupClosed();
    if (input.userId === group.ownerId) throw GroupErrors.adminIsOwner();
    const membership = await getMembership(tx, input.userId, group.uuid);
    if (!membership || !isActiveMembership(membership.status)) throw GroupErrors.targetNotMember();
    if (hasAdminRole(membership.role) === input.admin) return { changed: false };
    if (input.admin) {
      if (isMuted(membership.status)) throw GroupErrors.adminIsMuted();
      if ((await activeAdminIds(tx, group.uuid)).length >= ctx.limits.maxGroupAdmins) throw GroupErrors.tooManyAdmins();
    }
    const role = input.admin ? MemberRole.admin : MemberRole.member;
    await tx
      .update(contacts)
      .set({ role, updatedAt: sql`now()` })
      .where(and(eq(contacts.userId, input.userId), eq(contacts.contactId, group.uuid), eq(contacts.contactType, ContactType.group)));
    await outbox.event(
      "member.role",
      { groupId: group.uuid, userIds: [input.userId] },
      { userId: input.userId, role: input.admin ? "admin" : "member", by: ownerId },
    );
    return { changed: true };
  });
}

/**
 * The owner or an admin switches mute-all (全员禁言). It is written under the group lock, the
 * conversation row every send batch locks before reading `mute_all`, so no ordinary member's send
 * commits after the switch does. A repeat of the current state changes nothing and emits nothing.
 */
export async function setMuteAll(ctx: DomainContext, userId: string, input: SetMuteAllInput): Promise<{ changed: boolean }> {
  return transact(ctx, async (tx, outbox) => {
    const { group } = await lockManagedGroup(tx, input.groupId, userId, GroupErrors.muteAllNotManager);
    if (group.muteAll === input.muted) return { changed: false };
    await tx.update(groups).set({ muteAll: input.muted, updatedAt: sql`now()` }).where(eq(groups.uuid, group.uuid));
    await outbox.event("group.muteAll", { groupId: group.uuid }, { muted: input.muted, by: userId });
    return { changed: true };
  });
}
