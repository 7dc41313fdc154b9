import { ContactStatus, ContactType, contacts, groups, GroupStatus } from "@omnilink/db";
import { and, eq, sql } from "drizzle-orm";
import { isDismissedGroup, isGroupOwner, isNormalGroup } from "../access.js";
import type { DomainContext } from "../context.js";
import { transact } from "../realtime/outbox.js";
import { activeMemberIds, lockGroup } from "./membership.js";
import { GroupErrors } from "./texts.js";

/**
 * The legacy checks of legacy-contract §2.23, in the same order. Unlike the legacy server (a goroutine after the reply),
 * every membership row becomes 8 in the same transaction, so no member looks active afterwards.
 */
export async function dismissGroup(ctx: DomainContext, ownerId: string, groupId: string): Promise<void> {
  await transact(ctx, async (tx, outbox) => {
    const { group } = await lockGroup(tx, groupId);
    if (!group) throw GroupErrors.groupNotFound();
    if (!isGroupOwner(group, ownerId)) throw GroupErrors.dismissNotOwner();
    if (isDismissedGroup(group)) throw GroupErrors.alreadyDismissed();
    if (!isNormalGroup(group)) throw GroupErrors.dismissAbnormal();

    // Everyone active now must hear the dismissal: the dispatcher drops them from the group with it.
    const members = await activeMemberIds(tx, groupId);
    await tx
      .update(groups)
      .set({ status: GroupStatus.dismissed, memberCnt: 0, updatedAt: sql`now()` })
      .where(eq(groups.uuid, groupId));
    await tx
      .update(contacts)
      .set({ status: ContactStatus.dismissed, updatedAt: sql`now()` })
      .where(and(eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group)));
    await outbox.event("group.dismissed", { groupId, userIds: members }, { by: ownerId });
  });
}
