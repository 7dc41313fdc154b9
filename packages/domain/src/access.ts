import { ACTIVE_MEMBER_STATUSES, ContactStatus, ContactType, contacts, groups, GroupStatus, MemberRole, UserStatus } from "@omnilink/db";
import { and, eq, inArray } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { forbidden, type AppError } from "./errors.js";

/**
 * The access rules, named once. Every status the database stores is an enum of `@omnilink/db`;
 * this module turns them into the questions the domain asks (is this an active member, may they
 * send, may they read, is this the owner, are these two friends). Nothing outside this module and
 * the schema compares a status with a number.
 */

type Status = number | null | undefined;

/** An account that may sign in and act. */
export const isUsableAccount = (status: Status): boolean => status === UserStatus.normal;

/** A group that is neither disabled nor dismissed: the only kind anything may change or be sent to. */
export const isNormalGroup = (group: { status: number } | null | undefined): boolean => group?.status === GroupStatus.normal;

/** A group its owner dismissed. */
export const isDismissedGroup = (group: { status: number } | null | undefined): boolean => group?.status === GroupStatus.dismissed;

export const isGroupOwner = (group: { ownerId: string } | null | undefined, userId: string): boolean => group?.ownerId === userId;

/** Still a member (normal or muted): hears the group, reads its history, counts in member_cnt. */
export const isActiveMembership = (status: Status): boolean =>
  status !== null && status !== undefined && (ACTIVE_MEMBER_STATUSES as readonly number[]).includes(status);

/** A membership that ended by leaving or by being removed (the user is no longer in the group). */
export const hasLeftGroup = (status: Status): boolean => status === ContactStatus.left || status === ContactStatus.kicked;

/** A member who may read the group's history and read positions (muted members may). */
export const mayReadGroup = (status: Status): boolean => isActiveMembership(status);

/** A member who may send to the group: active and not muted. */
export const maySendToGroup = (status: Status): boolean => status === ContactStatus.normal;

export const isMuted = (status: Status): boolean => status === ContactStatus.muted;

/** A membership row whose role is admin (whether it still counts depends on its status). */
export const hasAdminRole = (role: Status): boolean => role === MemberRole.admin;

/** An active member appointed admin by the owner. */
export const isGroupAdmin = (membership: { status: number; role: number } | null | undefined): boolean =>
  !!membership && isActiveMembership(membership.status) && hasAdminRole(membership.role);

/**
 * The owner or an active admin: may decide join requests, remove and mute ordinary members, edit
 * the group, switch mute-all, recall anyone's message and mention everyone.
 */
export const isGroupManager = (
  group: { ownerId: string } | null | undefined,
  userId: string,
  membership: { status: number; role: number } | null | undefined,
): boolean => isGroupOwner(group, userId) || isGroupAdmin(membership);

/** My friend row towards someone says we are friends. */
export const isFriend = (status: Status): boolean => status === ContactStatus.normal;

/** My friend row says I deleted them (a repeated delete changes nothing). */
export const isDeletedFriend = (status: Status): boolean => status === ContactStatus.deleted;

/** My friend row says I block them. */
export const iBlockThem = (status: Status): boolean => status === ContactStatus.blockedByMe;

/** My friend row says they block me. */
export const theyBlockMe = (status: Status): boolean => status === ContactStatus.blockedMe;

/**
 * Why I may not send to (or read the chat with) a peer, given my friend row towards them, with the
 * legacy texts in the legacy order; undefined when we are friends.
 */
export function privateRefusal(status: Status, action: "send" | "read"): AppError | undefined {
  if (isFriend(status)) return undefined;
  const send = action === "send";
  if (theyBlockMe(status)) return forbidden(send ? "已被对方拉黑，无法发送消息" : "已被对方拉黑，无法查看聊天记录");
  if (iBlockThem(status)) return forbidden(send ? "已拉黑对方，无法发送消息" : "已拉黑对方，无法查看聊天记录");
  return forbidden(send ? "无权发送消息" : "无权查看聊天记录");
}

/** SQL: `user_contact` rows that are group memberships. */
export const membershipRows = () => eq(contacts.contactType, ContactType.group);

/** SQL: a membership row (user_contact) that is active. */
export const activeMembershipRow = () => and(membershipRows(), inArray(contacts.status, [...ACTIVE_MEMBER_STATUSES]));

/** SQL: a membership row (`user_contact`, or an alias of it) that is active and holds the admin role. */
export const activeAdminRow = (table: { contactType: AnyPgColumn; status: AnyPgColumn; role: AnyPgColumn } = contacts) =>
  and(eq(table.contactType, ContactType.group), inArray(table.status, [...ACTIVE_MEMBER_STATUSES]), eq(table.role, MemberRole.admin));

/** SQL: a group row (group_info) that is normal. */
export const normalGroupRow = () => eq(groups.status, GroupStatus.normal);

/**
 * SQL on `user_contact` joined with `group_info` (on contact_id): `userId` is an active member of
 * a normal group. Who hears a group, who lists it as joined.
 */
export const activeMembershipOf = (userId: string) => and(eq(contacts.userId, userId), activeMembershipRow(), normalGroupRow());

/** SQL: `user_contact` friend rows in the friends state. */
export const friendRow = () => and(eq(contacts.contactType, ContactType.user), eq(contacts.status, ContactStatus.normal));
