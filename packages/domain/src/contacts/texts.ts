import { badRequest, conflict, forbidden, notFound } from "../errors.js";

/**
 * User-facing texts of the contacts module. The legacy client shows `message` verbatim, so every
 * case the legacy backend had keeps its exact text (legacy-contract §2.7-§2.11, §5.6); the others are
 * operations the legacy server never registered (delete, block, unblock).
 */
export const ContactErrors = {
  badParams: () => badRequest(),
  applySelf: () => badRequest("不能添加自己"),
  userNotFound: () => notFound("用户不存在"),
  userUnavailable: () => forbidden("用户不可用"),
  // Legacy code 400; CONFLICT maps to 400 in the legacy envelope and 409 elsewhere.
  alreadyFriends: () => conflict("已是好友"),
  iBlockedThem: () => badRequest("您已将对方拉黑"),
  theyBlockedMe: () => forbidden("对方已将您拉黑"),

  applyNotFound: () => notFound("申请不存在"),
  applyBlacklisted: () => forbidden("该申请已被拉黑"),
  applyNotMine: () => forbidden("无权操作该申请"),
  alreadyApproved: () => badRequest("已通过，无法拒绝"),
  unsupportedApplyType: () => badRequest("不支持的申请类型"),

  contactForbidden: () => forbidden("无权查看该联系人"),
  contactNotFound: () => notFound("联系人不存在"),

  notFriends: () => badRequest("非好友关系"),
  blockSelf: () => badRequest("不能拉黑自己"),
  notBlocked: () => badRequest("未拉黑对方"),
} as const;
