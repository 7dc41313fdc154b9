import type { ContactInfo, FriendView, GroupListItem, JoinRequestView, OwnerJoinRequestView, PendingApplyItem } from "@omnilink/domain";
import { formatDateTime } from "../format.js";

/** Friend list item (legacy-contract §2.5): note `user_name` (nickname, falling back to the username). */
export const toFriendItem = (f: FriendView) => ({ user_id: f.userId, user_name: f.name, avatar: f.avatar, status: f.status });

/** Joined (legacy-contract §2.6) or owned (/group/loadMyGroup) group item; `owner_id` and `member_cnt` are additions (D16). */
export const toGroupListItem = (g: GroupListItem) => ({
  group_id: g.groupId,
  group_name: g.name,
  avatar: g.avatar,
  owner_id: g.ownerId,
  member_cnt: g.memberCnt,
});

/** Contact info (legacy-contract §2.7). A group answers with its real name and avatar instead of the legacy placeholder (same keys). */
export const toContactInfo = (c: ContactInfo) => ({
  contact_id: c.contactId,
  contact_name: c.name,
  contact_avatar: c.avatar,
  contact_signature: c.signature,
  gender: c.gender,
  birthday: c.birthday,
});

/** Prefix of join requests in the new-contact list (note the trailing space). */
const JOIN_REQUEST_PREFIX = "[申请入群] ";

/**
 * New-contact item (legacy-contract §2.9): `uuid` is the apply id the client passes back as `apply_id`. The keys
 * after `last_apply_at` are additions (legacy-contract D16) that say what the request is about.
 */
export const toPendingApply = (p: PendingApplyItem) => ({
  uuid: p.applyId,
  user_id: p.userId,
  username: p.username,
  nickname: p.nickname,
  avatar: p.avatar,
  message: p.kind === "join" ? `${JOIN_REQUEST_PREFIX}${p.message}` : p.message,
  status: 0,
  last_apply_at: formatDateTime(p.lastApplyAt),
  apply_id: p.applyId,
  contact_type: p.kind === "join" ? 1 : 0,
  ...(p.groupId ? { group_id: p.groupId, group_name: p.groupName ?? "" } : {}),
});

/**
 * A pending join request in the approval lists (legacy-contract D10: /contact/getAddGroupList,
 * /group/getJoinApplyList). The brief asks for `apply_id, user_id, nickname/username, avatar,
 * message, created_at`; `uuid` and `last_apply_at` repeat the new-contact item's keys so one
 * client view can show both. Times are `2006-01-02 15:04:05` like `last_apply_at` (legacy-contract §1.8).
 */
export function toJoinRequest(r: JoinRequestView | OwnerJoinRequestView, groupId: string) {
  const at = formatDateTime(r.lastApplyAt);
  return {
    apply_id: r.applyId,
    uuid: r.applyId,
    group_id: groupId,
    ...("groupName" in r ? { group_name: r.groupName } : {}),
    user_id: r.userId,
    username: r.username,
    nickname: r.nickname,
    avatar: r.avatar,
    message: r.message,
    status: 0,
    invited_by: r.invitedBy ?? "",
    created_at: at,
    last_apply_at: at,
  };
}
