import { AddMode, ContactType, contacts, groups, type Tx } from "@omnilink/db";
import type { DomainContext } from "../context.js";
import { newId } from "../ids.js";
import { transact } from "../realtime/outbox.js";
import { ensureConversation } from "../sessions/ensure.js";
import { toGroupView, type GroupView } from "./group-info.js";
import { assertUsersUsable, grantSessions, loadGroup, recountMembers } from "./membership.js";
import { cleanIds, type CreateGroupInput } from "./schemas.js";
import { GroupErrors } from "./texts.js";

/**
 * Creates a group with the owner and the listed users as members at once (legacy: no friendship
 * or consent needed), its conversation, and a session for every member (legacy-contract D7).
 */
export async function createGroup(ctx: DomainContext, ownerId: string, input: CreateGroupInput): Promise<GroupView> {
  const memberIds = [ownerId, ...cleanIds(input.memberIds).filter((id) => id !== ownerId)];
  // Before any query: an oversized list must not cost a lookup per id.
  if (memberIds.length > ctx.limits.maxGroupMembers) throw GroupErrors.tooManyMembers();
  const name = input.name.trim();
  const notice = (input.notice ?? "").trim();

  return transact(ctx, async (tx: Tx, outbox) => {
    await assertUsersUsable(tx, memberIds);
    const groupId = newId("G");
    await tx.insert(groups).values({
      uuid: groupId,
      name,
      notice,
      ownerId,
      memberCnt: memberIds.length,
      addMode: input.addMode ?? AddMode.direct,
    });
    await ensureConversation(tx, groupId, 1);
    await tx.insert(contacts).values(memberIds.map((userId) => ({ userId, contactId: groupId, contactType: ContactType.group, status: 0 })));
    await recountMembers(tx, groupId);
    const group = await loadGroup(tx, groupId);
    if (!group) throw new Error("group insert not visible in its own transaction");
    await grantSessions(tx, group, memberIds, 0);
    await outbox.event("group.created", { groupId, userIds: memberIds }, { name, ownerId, memberIds });
    return toGroupView(group);
  });
}
