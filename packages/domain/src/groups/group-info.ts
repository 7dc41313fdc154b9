import { ACTIVE_MEMBER_STATUSES, ContactType, contacts, groups, users, type Queryable } from "@omnilink/db";
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { DomainContext } from "../context.js";
import { activeMembershipOf, hasAdminRole, isGroupOwner, isMuted, normalGroupRow } from "../access.js";
import { isActiveMember, loadGroup, type GroupRow } from "./membership.js";
import { GroupErrors } from "./texts.js";

export interface GroupView {
  uuid: string;
  name: string;
  notice: string;
  ownerId: string;
  memberCnt: number;
  addMode: number;
  avatar: string;
  status: number;
  /** 全员禁言: only the owner and admins may send (legacy-contract D29). */
  muteAll: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type GroupMemberRole = "owner" | "admin" | "member";

export interface GroupMemberView {
  userId: string;
  username: string;
  nickname: string;
  avatar: string;
  gender: number;
  /** The owner (group_info.owner_id), an active admin, or an ordinary member. */
  role: GroupMemberRole;
  muted: boolean;
}

export interface GroupListItem {
  groupId: string;
  name: string;
  avatar: string;
  ownerId: string;
  memberCnt: number;
}

export function toGroupView(g: GroupRow): GroupView {
  return {
    uuid: g.uuid,
    name: g.name,
    notice: g.notice,
    ownerId: g.ownerId,
    memberCnt: g.memberCnt,
    addMode: g.addMode,
    avatar: g.avatar,
    status: g.status,
    muteAll: g.muteAll,
    createdAt: g.createdAt,
    updatedAt: g.updatedAt,
  };
}

/** legacy-contract D5: only the owner or an active member may read a group; the legacy server let anyone. */
async function readableGroup(q: Queryable, userId: string, groupId: string): Promise<GroupRow> {
  const group = await loadGroup(q, groupId);
  if (!group) throw GroupErrors.groupNotFound();
  if (!isGroupOwner(group, userId) && !(await isActiveMember(q, userId, groupId))) throw GroupErrors.notMemberRead();
  return group;
}

export async function getGroupInfo(ctx: DomainContext, userId: string, groupId: string): Promise<GroupView> {
  return toGroupView(await readableGroup(ctx.db, userId, groupId));
}

/** Active members (muted included) with their role, owner first, then in join order. */
export async function listGroupMembers(ctx: DomainContext, userId: string, groupId: string): Promise<GroupMemberView[]> {
  const group = await readableGroup(ctx.db, userId, groupId);
  const rows = await ctx.db
    .select({
      userId: users.uuid,
      username: users.username,
      nickname: users.nickname,
      avatar: users.avatar,
      gender: users.gender,
      status: contacts.status,
      memberRole: contacts.role,
    })
    .from(contacts)
    .innerJoin(users, eq(users.uuid, contacts.userId))
    .where(
      and(eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group), inArray(contacts.status, [...ACTIVE_MEMBER_STATUSES])),
    )
    .orderBy(sql`${contacts.userId} = ${group.ownerId} desc`, asc(contacts.id));
  return rows.map(({ status, memberRole, ...r }): GroupMemberView => ({
    ...r,
    role: r.userId === group.ownerId ? "owner" : hasAdminRole(memberRole) ? "admin" : "member",
    muted: isMuted(status),
  }));
}

const listItemColumns = {
  groupId: groups.uuid,
  name: groups.name,
  avatar: groups.avatar,
  ownerId: groups.ownerId,
  memberCnt: groups.memberCnt,
};

/**
 * Normal groups where I am an active member. Read-only: the legacy read rewrote memberships of
 * dismissed groups to 8; dismissGroup does that itself now.
 */
export async function listJoinedGroups(ctx: DomainContext, userId: string): Promise<GroupListItem[]> {
  return ctx.db
    .select(listItemColumns)
    .from(contacts)
    .innerJoin(groups, eq(groups.uuid, contacts.contactId))
    .where(activeMembershipOf(userId))
    .orderBy(asc(contacts.id));
}

/** Normal groups I own, newest first. */
export async function listOwnedGroups(ctx: DomainContext, userId: string): Promise<GroupListItem[]> {
  return ctx.db
    .select(listItemColumns)
    .from(groups)
    .where(and(eq(groups.ownerId, userId), normalGroupRow()))
    .orderBy(desc(groups.createdAt), desc(groups.id));
}
