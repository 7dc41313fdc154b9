import { ACTIVE_MEMBER_STATUSES, ContactStatus, ContactType, contacts } from "@omnilink/db";
import { and, eq, inArray, sql } from "drizzle-orm";
import { isActiveMembership, isGroupOwner, isNormalGroup } from "../access.js";
import type { DomainContext } from "../context.js";
import { transact } from "../realtime/outbox.js";
import { getMembership, lockGroup, recountMembers } from "./membership.js";
import { cleanIds, type RemoveMembersInput } from "./schemas.js";
import { GroupErrors } from "./texts.js";

/** legacy-contract §2.22: the legacy checks in the same order; the membership becomes 6 (left). */
export async function leaveGroup(ctx: DomainContext, userId: string, groupId: string): Promise<void> {
  await transact(ctx, async (tx, outbox) => {
    const { group } = await lockGroup(tx, groupId);
    if (!group) throw GroupErrors.groupNotFound();
    if (!isNormalGroup(group)) throw GroupErrors.leaveClosed();
    if (isGroupOwner(group, userId)) throw GroupErrors.ownerCannotLeave();
    if (!isActiveMembership((await getMembership(tx, userId, groupId))?.status)) throw GroupErrors.notMemberLeave();
    await tx
      .update(contacts)
      .set({ status: ContactStatus.left, updatedAt: sql`now()` })
      .where(and(eq(contacts.userId, userId), eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group)));
    await recountMembers(tx, groupId);
    await outbox.event("member.left", { groupId, userIds: [userId] }, { userId });
  });
}

/** Owner kicks members (status 7). Ids that are not active members are skipped. */
export async function removeMembers(ctx: DomainContext, ownerId: string, input: RemoveMembersInput): Promise<{ removed: string[] }> {
  const targets = cleanIds(input.memberIds);
  return transact(ctx, async (tx, outbox) => {
    const { group } = await lockGroup(tx, input.groupId);
    if (!group) throw GroupErrors.groupNotFound();
    if (!isGroupOwner(group, ownerId)) throw GroupErrors.removeNotOwner();
    if (!isNormalGroup(group)) throw GroupErrors.removeClosed();
    if (targets.includes(ownerId)) throw GroupErrors.cannotRemoveOwner();
    const rows = await tx
      .update(contacts)
      .set({ status: ContactStatus.kicked, updatedAt: sql`now()` })
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
    await outbox.event("member.removed", { groupId: group.uuid, userIds: removed }, { userIds: removed, by: ownerId });
    return { removed };
  });
}
