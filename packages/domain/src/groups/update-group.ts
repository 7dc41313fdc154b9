import { groups } from "@omnilink/db";
import { eq, sql } from "drizzle-orm";
import type { DomainContext } from "../context.js";
import type { EventPayloads } from "../realtime/events.js";
import { transact } from "../realtime/outbox.js";
import { toGroupView, type GroupView } from "./group-info.js";
import { lockManagedGroup } from "./membership.js";
import type { UpdateGroupInput } from "./schemas.js";
import { GroupErrors } from "./texts.js";

type Changes = EventPayloads["group.updated"]["changes"];

/**
 * The owner or an admin edits name, notice or avatar; the add mode (who may join without
 * approval) is the owner's alone (ARCHITECTURE.md "Group admins"). Only fields that really change
 * are written and announced. Session rows keep their snapshot: session lists show the group's
 * current name.
 */
export async function updateGroup(ctx: DomainContext, actorId: string, input: UpdateGroupInput): Promise<GroupView> {
  return transact(ctx, async (tx, outbox) => {
    const { group, isOwner } = await lockManagedGroup(tx, input.groupId, actorId, GroupErrors.updateNotOwner);

    const changes: Changes = {};
    const name = input.name?.trim();
    const notice = input.notice?.trim();
    const avatar = input.avatar?.trim();
    if (name !== undefined && name !== group.name) changes.name = name;
    if (notice !== undefined && notice !== group.notice) changes.notice = notice;
    if (avatar !== undefined && avatar !== group.avatar) changes.avatar = avatar;
    if (input.addMode !== undefined && input.addMode !== group.addMode) {
      if (!isOwner) throw GroupErrors.addModeOwnerOnly();
      changes.addMode = input.addMode;
    }
    if (Object.keys(changes).length === 0) return toGroupView(group);

    const [updated] = await tx
      .update(groups)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(eq(groups.uuid, group.uuid))
      .returning();
    if (!updated) throw new Error("updated group vanished inside its transaction");
    await outbox.event("group.updated", { groupId: group.uuid }, { changes });
    return toGroupView(updated);
  });
}
