import { AppError, badRequest, conflict, forbidden, notFound } from "../errors.js";

/**
 * User-facing texts of the group module. Where the legacy backend had a case, its exact text is
 * kept (the legacy client shows it verbatim); the others are new operations.
 */
export const GroupErrors = {
  groupNotFound: () => notFound("群组不存在"),
  groupAbnormal: () => forbidden("群组状态异常"),
  notMemberRead: () => forbidden("非群成员"),
  notMemberLeave: () => badRequest("非群成员"),
  alreadyMember: () => conflict("已在群聊中"),
  memberNotFound: () => notFound("成员不存在"),
  memberDisabled: () => forbidden("成员状态异常"),
  groupFull: () => conflict("群成员已达上限"),
  tooManyMembers: () => badRequest("群成员已达上限"),

  inviteClosed: () => forbidden("群组已解散或状态异常，无法邀请成员"),

  applyNotFound: () => notFound("申请不存在"),
  applyBlacklisted: () => forbidden("该申请已被拉黑"),
  approveNotOwner: () => forbidden("只有群主可以审批入群申请"),
  rejectNotOwner: () => forbidden("只有群主可以审批"),
  alreadyApproved: () => badRequest("已通过，无法拒绝"),

  leaveClosed: () => forbidden("群组已解散或状态异常，无法退群"),
  ownerCannotLeave: () => forbidden("群主不能退群，请先转让群主或解散群"),

  dismissNotOwner: () => forbidden("非群主无法解散群聊"),
  alreadyDismissed: () => forbidden("群组已解散，请勿重复操作"),
  dismissAbnormal: () => forbidden("群组状态异常，无法解散"),

  removeNotOwner: () => forbidden("只有群主可以移除成员"),
  removeClosed: () => forbidden("群组已解散或状态异常，无法移除成员"),
  cannotRemoveOwner: () => badRequest("不能移除群主"),

  muteNotOwner: () => forbidden("只有群主可以禁言成员"),
  cannotMuteOwner: () => badRequest("不能禁言群主"),
  targetNotMember: () => badRequest("对方不是群成员"),

  transferNotOwner: () => forbidden("只有群主可以转让群主"),
  transferToSelf: () => badRequest("不能转让给自己"),

  updateNotOwner: () => forbidden("只有群主可以修改群资料"),

  // Admins and mute-all (legacy-contract D28–D30): new operations, so the texts are ours.
  adminNotOwner: () => forbidden("只有群主可以设置管理员"),
  adminIsOwner: () => badRequest("群主不能被设为管理员"),
  adminIsMuted: () => badRequest("该成员被禁言中，请先解除禁言"),
  tooManyAdmins: () => conflict("管理员人数已达上限"),
  managerOnly: () => forbidden("只有群主和管理员可以操作"),
  adminCannotTouchManager: () => forbidden("管理员不能对群主或其他管理员操作"),
  cannotMuteAdmin: () => badRequest("不能禁言管理员，请先取消其管理员身份"),
  addModeOwnerOnly: () => forbidden("只有群主可以修改入群方式"),
  muteAllNotManager: () => forbidden("只有群主和管理员可以设置全员禁言"),

  /** Normal-status requirement of the owner-only writes (mute, transfer, update). */
  groupClosed: () => forbidden("群组已解散或状态异常"),
  /** A permission decided on a read that a concurrent change made stale; the caller can retry. */
  changedMeanwhile: () => new AppError("CONFLICT", "群组信息已变更，请重试"),
} as const;

/** The message stored for a join request the applicant left empty (legacy). */
export const DEFAULT_JOIN_MESSAGE = "申请加入群聊";
/** The message of a join request created by a member's invite in an approval-only group. */
export const INVITE_JOIN_MESSAGE = "邀请加入群聊";
