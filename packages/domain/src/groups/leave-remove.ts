import { ACTIVE_MEMBER_STATUSES, ContactStatus, ContactType, contacts, MemberRole } from "@omnilink/db";
import { and, eq, inArray, sql } from "drizzle-orm";
import { isActiveMembership, isGroupOwner, isNormalGroup } from "../access.js";
import type { DomainContext } from "../context.js";
import { transact } from "../realtime/outbox.js";
import { activeAdminIds, getMembership, lockGroup, lockManagedGroup, recountMembers } from "./membership.js";
import { cleanIds, type RemoveMembersInput } from "./schemas.js";
import { GroupErrors } from "./texts.js";

/** legacy-contract §2.22: the legacy checks in the same order; the membership becomes 6 (left) and loses an admin role. */
export async function leaveGroup(ctx: DomainContext, userId: string, groupId: string): Promise<void> {
  await transact(ctx, async (tx, outbox) => {
    const { group } = await lockGroup(tx, groupId);
    if (!group) throw GroupErrors.groupNotFound();
    if (!isNormalGroup(group)) throw GroupErrors.leaveClosed();
    if (isGroupOwner(group, userId)) throw GroupErrors.ownerCannotLeave();
    if (!isActiveMembership((await getMembership(tx, userId, groupId))?.status)) throw GroupErrors.notMemberLeave();
    await tx
      .update(contacts)
      .set({ status: ContactStatus.left, role: MemberRole.member, updatedAt: sql`now()` })
      .where(and(eq(contacts.userId, userId), eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group)));
    await recountMembers(tx, groupId);
    await outbox.event("member.left", { groupId, userIds: [userId] }, { userId });
  });
}

/**
 * The owner or an admin kicks members (status 7; an admin role goes with the membership). An admin
 * may remove ordinary members only: a list naming the owner or an active admin is refused whole
 * (403). Ids that are not active members are skipped.
 */
export async function removeMembers(ctx: DomainContext, actorId: string, input: RemoveMembersInput): Promise<{ removed: string[] }> {
  const targets = cleanIds(input.memberIds);
  return transact(ctx, async (tx, outbox) => {
    const { group, isOwner } = await lockManagedGroup(tx, input.groupId, actorId, GroupErrors.removeNotOwner, GroupErrors.removeClosed);
    if (!isOwner) {
      const admins = new Set(await activeAdminIds(tx, group.uuid));
      if (targets.some((id) => id === group.ownerId || admins.has(id))) throw GroupErrors.adminCannotTouchManager();
    }
    if (targets.includes(group.ownerId)) throw GroupErrors.cannotRemoveOwner();
    const rows = await tx
      .update(contacts)
      .set({ status: ContactStatus.kicked, role: MemberRole.member, updatedAt: sql`now()` })
      .where(
        and(
          eq(contacts.contactId, group.uuid),
          eq(contacts.contactType, ContactType.group),
          inArray(contacts.userId, targets),
          inArray(contacts.status, [...ACTIVE_MEMBER_STATUSES]),
        ),
      )
      .returning({ userId: contacts.userId });
    // Keep the caller's order in the answer and the event.
    const hit = new Set(rows.map((r) => r.userId));
    const removed = targets.filter((id) => hit.has(id));
    if (removed.length === 0) return { removed };
    await recountMembers(tx, group.uuid);
    await outbox.event("member.removed", { groupId: group.uuid, userIds: removed }, { userIds: removed, by: actorId });
    return { removed };
  });
}
