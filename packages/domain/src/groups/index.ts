/**
 * Groups: creation, membership (invite, apply/approve, leave, remove, mute, transfer), admins and
 * mute-all, info and dismissal. Membership lives only in user_contact rows of type 1; member_cnt is recounted from
 * them in every transaction that changes them.
 */
export * from "./schemas.js";
export { GroupErrors, DEFAULT_JOIN_MESSAGE, INVITE_JOIN_MESSAGE } from "./texts.js";
export { loadGroup, getMembership, isActiveMember, activeMemberIds, type GroupRow } from "./membership.js";
export * from "./group-info.js";
export * from "./create-group.js";
export * from "./update-group.js";
export * from "./invite.js";
export * from "./join-requests.js";
export * from "./join-decisions.js";
export * from "./leave-remove.js";
export * from "./moderation.js";
export * from "./admins.js";
export * from "./dismiss.js";
