import { AddMode, ContactType, contactApplies, type Tx } from "@omnilink/db";
import { sql } from "drizzle-orm";
import { isActiveMembership, isGroupManager, isNormalGroup } from "../access.js";
import type { DomainContext } from "../context.js";
import { newId } from "../ids.js";
import { transact, type Outbox } from "../realtime/outbox.js";
import {
  activateMembers,
  activeAmong,
  assertCapacity,
  assertUsersUsable,
  getMembership,
  grantSessions,
  loadGroup,
  lockGroup,
  recountMembers,
  requestDeciders,
  type GroupRow,
} from "./membership.js";
import { cleanIds, type InviteMembersInput } from "./schemas.js";
import { GroupErrors, INVITE_JOIN_MESSAGE } from "./texts.js";

export interface InviteResult {
  /** Users who became members now. */
  added: string[];
  /** Users for whom a join request now waits for the owner. */
  requested: string[];
}

interface Inviting {
  group: GroupRow;
  /** The inviter is the owner or an active admin (legacy-contract D28). */
  manager: boolean;
}

const invitesDirectly = ({ group, manager }: Inviting) => manager || group.addMode === AddMode.direct;

/**
 * legacy-contract D4: an active member invites existing, enabled users. The owner's and admins'
 * invites, and anyone's in a group without approval (add_mode 0), add them at once; otherwise each
 * invitee gets a pending join request for the owner and admins. Invitees already in the group are
 * skipped.
 */
export async function inviteMembers(ctx: DomainContext, inviterId: string, input: InviteMembersInput): Promise<InviteResult> {
  const invitees = cleanIds(input.memberIds);
  return transact(ctx, async (tx, outbox) => {
    // Which path applies decides the locks: a direct join takes the group lock, a request takes
    // apply-row locks, which must come BEFORE the group lock (lock order), so decide on a plain read.
    const seen = await checkInvite(tx, await loadGroup(tx, input.groupId), inviterId, invitees);
    if (!invitesDirectly(seen)) {
      return { added: [], requested: await requestJoins(tx, outbox, seen.group, inviterId, invitees) };
    }
    const locked = await lockGroup(tx, input.groupId);
    const checked = await checkInvite(tx, locked.group, inviterId, []);
    // Ownership, the inviter's role or add_mode changed between the plain read and the lock: the path chosen is stale.
    if (!invitesDirectly(checked)) throw GroupErrors.changedMeanwhile();
    const { group } = checked;

    const active = await activeAmong(tx, group.uuid, invitees);
    const added = invitees.filter((id) => !active.has(id));
    if (added.length === 0) return { added, requested: [] };
    await activateMembers(tx, group.uuid, added);
    assertCapacity(ctx, await recountMembers(tx, group.uuid));
    await grantSessions(tx, group, added, locked.lastSeq);
    await outbox.event("member.joined", { groupId: group.uuid, userIds: added }, { userIds: added, by: inviterId, via: "invite" });
    return { added, requested: [] };
  });
}

/** Legacy order: group missing 404, not normal 403; then legacy-contract D4: inviter active member, invitees usable. */
async function checkInvite(tx: Tx, group: GroupRow | undefined, inviterId: string, invitees: string[]): Promise<Inviting> {
  if (!group) throw GroupErrors.groupNotFound();
  if (!isNormalGroup(group)) throw GroupErrors.inviteClosed();
  const membership = await getMembership(tx, inviterId, group.uuid);
  if (!isActiveMembership(membership?.status)) throw GroupErrors.notMemberRead();
  await assertUsersUsable(tx, invitees);
  return { group, manager: isGroupManager(group, inviterId, membership) };
}

/**
 * One pending join request per invitee not yet in the group (a re-invite resets the one row).
 * Rows are upserted in id order so two overlapping invites lock them in the same order.
 */
async function requestJoins(tx: Tx, outbox: Outbox, group: GroupRow, inviterId: string, invitees: string[]): Promise<string[]> {
  const active = await activeAmong(tx, group.uuid, invitees);
  const requested = invitees.filter((id) => !active.has(id));
  if (requested.length === 0) return requested;
  const rows = await tx
    .insert(contactApplies)
    .values(
      [...requested].sort().map((userId) => ({
        uuid: newId("A"),
        userId,
        contactId: group.uuid,
        contactType: ContactType.group,
        status: 0,
        message: INVITE_JOIN_MESSAGE,
        invitedBy: inviterId,
      })),
    )
    .onConflictDoUpdate({
      target: [contactApplies.userId, contactApplies.contactId, contactApplies.contactType],
      set: {
        status: 0,
        message: INVITE_JOIN_MESSAGE,
        invitedBy: inviterId,
        decidedBy: null,
        decidedAt: null,
        lastApplyAt: sql`now()`,
      },
    })
    .returning({ uuid: contactApplies.uuid, userId: contactApplies.userId });
  const deciders = await requestDeciders(tx, group);
  const applyIds = new Map(rows.map((r) => [r.userId, r.uuid]));
  for (const userId of requested) {
    await outbox.event(
      "request.created",
      { groupId: null, userIds: deciders },
      {
        applyId: applyIds.get(userId) ?? "",
        kind: "join",
        applicantId: userId,
        targetId: group.uuid,
        message: INVITE_JOIN_MESSAGE,
        invitedBy: inviterId,
      },
    );
  }
  return requested;
}
