import {
  ACTIVE_MEMBER_STATUSES,
  ContactStatus,
  ContactType,
  contacts,
  groups,
  MemberRole,
  users,
  type Queryable,
  type Tx,
} from "@omnilink/db";
import { and, count, eq, inArray, notInArray, sql, type SQL } from "drizzle-orm";
import { activeAdminRow, activeMembershipRow, isActiveMembership, isGroupManager, isGroupOwner, isNormalGroup, isUsableAccount } from "../access.js";
import type { DomainContext } from "../context.js";
import { ensureConversation, ensureSession, lockConversation } from "../sessions/ensure.js";
import { GroupErrors } from "./texts.js";

export type GroupRow = typeof groups.$inferSelect;

const ACTIVE = [...ACTIVE_MEMBER_STATUSES] as number[];

export async function loadGroup(q: Queryable, groupId: string): Promise<GroupRow | undefined> {
  const [row] = await q.select().from(groups).where(eq(groups.uuid, groupId)).limit(1);
  return row;
}

/** The user's membership row of a group, whatever its status (0/5 active, 6 left, 7 kicked, 8 dismissed), and its role. */
export async function getMembership(q: Queryable, userId: string, groupId: string): Promise<{ status: number; role: number } | undefined> {
  const [row] = await q
    .select({ status: contacts.status, role: contacts.role })
    .from(contacts)
    .where(and(eq(contacts.userId, userId), eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group)))
    .limit(1);
  return row;
}

export async function isActiveMember(q: Queryable, userId: string, groupId: string): Promise<boolean> {
  return isActiveMembership((await getMembership(q, userId, groupId))?.status);
}

/** Ids of the group's members whose row matches `rows`, in join order. */
async function memberIdsWhere(q: Queryable, groupId: string, rows: SQL | undefined): Promise<string[]> {
  const found = await q
    .select({ userId: contacts.userId })
    .from(contacts)
    .where(and(eq(contacts.contactId, groupId), rows))
    .orderBy(contacts.id);
  return found.map((r) => r.userId);
}

/** Ids of the group's active members (owner included), in join order. */
export const activeMemberIds = (q: Queryable, groupId: string): Promise<string[]> => memberIdsWhere(q, groupId, activeMembershipRow());

/** Of `userIds`, those that are active members of the group. */
export async function activeAmong(q: Queryable, groupId: string, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await q
    .select({ userId: contacts.userId })
    .from(contacts)
    .where(
      and(
        eq(contacts.contactId, groupId),
        activeMembershipRow(),
        inArray(contacts.userId, userIds),
      ),
    );
  return new Set(rows.map((r) => r.userId));
}

/** Ids of the group's active admins (the owner is not one), in join order. */
export const activeAdminIds = (q: Queryable, groupId: string): Promise<string[]> => memberIdsWhere(q, groupId, activeAdminRow());

/** Who hears about a group's join requests: the owner and every active admin (legacy-contract D28). */
export async function requestDeciders(q: Queryable, group: Pick<GroupRow, "uuid" | "ownerId">): Promise<string[]> {
  return [group.ownerId, ...(await activeAdminIds(q, group.uuid)).filter((id) => id !== group.ownerId)];
}

/** The caller's standing in a group, as read under its lock: owner, admin, or neither. */
export interface ManagedGroup {
  group: GroupRow;
  lastSeq: number;
  /** The caller owns the group (otherwise they are an active admin). */
  isOwner: boolean;
}

/**
 * Locks the group and checks that the caller is its owner or an active admin, in that order:
 * missing 404, not a manager `notManager`, not normal `closed`. Every check reads after the lock,
 * so an admin revoked (or removed) by a transaction that committed first is refused, and one
 * revoked later waits for this transaction.
 */
export async function lockManagedGroup(
  tx: Tx,
  groupId: string,
  userId: string,
  notManager: () => Error,
  closed: () => Error = GroupErrors.groupClosed,
): Promise<ManagedGroup> {
  const { group, lastSeq } = await lockGroup(tx, groupId);
  if (!group) throw GroupErrors.groupNotFound();
  const isOwner = isGroupOwner(group, userId);
  if (!isOwner && !isGroupManager(group, userId, await getMembership(tx, userId, group.uuid))) throw notManager();
  if (!isNormalGroup(group)) throw closed();
  return { group, lastSeq, isOwner };
}

/**
 * Serialises membership changes of one group: locks its conversation row (lock order step 2),
 * then reads the group, so the status and owner seen are the ones that hold until commit (every
 * writer of a group's status, owner or members takes this lock first). Returns the conversation's
 * last seq, the read position given to new members.
 */
export async function lockGroup(tx: Tx, groupId: string): Promise<{ group: GroupRow | undefined; lastSeq: number }> {
  let lastSeq = await lockConversation(tx, groupId);
  const group = await loadGroup(tx, groupId);
  if (group && lastSeq === undefined) {
    // Only groups that predate conversations lack the row; sessions reference it, so make it.
    await ensureConversation(tx, groupId, 1);
    lastSeq = await lockConversation(tx, groupId);
  }
  return { group, lastSeq: lastSeq ?? 0 };
}

/**
 * Recomputes member_cnt from the membership rows, in the caller's transaction (which holds the
 * group lock), so the count is exact whatever ran concurrently. Returns the new count.
 */
export async function recountMembers(tx: Tx, groupId: string): Promise<number> {
  const active = tx
    .select({ n: count() })
    .from(contacts)
    .where(and(eq(contacts.contactId, groupId), activeMembershipRow()));
  const [row] = await tx
    .update(groups)
    .set({ memberCnt: sql`(${active})` })
    .where(eq(groups.uuid, groupId))
    .returning({ memberCnt: groups.memberCnt });
  return row?.memberCnt ?? 0;
}

/** Makes users active (status 0) members: inserts new rows, reactivates left/kicked/dismissed ones. */
export async function activateMembers(tx: Tx, groupId: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await tx
    .insert(contacts)
    .values(userIds.map((userId) => ({ userId, contactId: groupId, contactType: ContactType.group, status: ContactStatus.normal })))
    .onConflictDoUpdate({
      target: [contacts.userId, contacts.contactId, contacts.contactType],
      // A rejoin starts as an ordinary member: an earlier admin role is not restored.
      set: { status: ContactStatus.normal, role: MemberRole.member, updatedAt: sql`now()` },
      // An already-active member keeps its row (a muted member stays muted, an admin stays admin).
      setWhere: notInArray(contacts.status, ACTIVE),
    });
}

/** Throws when the group holds more active members than allowed (checked after adding, under the group lock). */
export function assertCapacity(ctx: DomainContext, memberCnt: number): void {
  if (memberCnt > ctx.limits.maxGroupMembers) throw GroupErrors.groupFull();
}

/** Creates or re-shows the group session of each new member; history from before joining is read (legacy-contract D7). */
export async function grantSessions(tx: Tx, group: Pick<GroupRow, "uuid" | "name" | "avatar">, userIds: string[], readSeq: number): Promise<void> {
  for (const ownerId of userIds) {
    await ensureSession(tx, { ownerId, peerId: group.uuid, conversationId: group.uuid, name: group.name, avatar: group.avatar, readSeq });
  }
}

/**
 * Checks, in the given order, that every id is an existing, enabled user: the first unknown one
 * gives 404 成员不存在, the first disabled one 403 成员状态异常 (legacy createGroup rules).
 */
export async function assertUsersUsable(q: Queryable, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  const rows = await q.select({ uuid: users.uuid, status: users.status }).from(users).where(inArray(users.uuid, userIds));
  const status = new Map(rows.map((r) => [r.uuid, r.status]));
  for (const id of userIds) {
    const s = status.get(id);
    if (s === undefined) throw GroupErrors.memberNotFound();
    if (!isUsableAccount(s)) throw GroupErrors.memberDisabled();
  }
}
