import type { GroupMemberView, GroupView } from "@omnilink/domain";
import { formatRfc3339 } from "../format.js";

/**
 * CreateGroupRespond / group info (legacy-contract §2.18, §2.19): every key always present, the id twice
 * (`uuid` and `group_id`). `add_mode` (legacy-contract D16) and `mute_all` (D29) are additions.
 */
export const toGroupInfo = (g: GroupView) => ({
  uuid: g.uuid,
  group_id: g.uuid,
  name: g.name,
  notice: g.notice,
  owner_id: g.ownerId,
  member_cnt: g.memberCnt,
  avatar: g.avatar,
  status: g.status,
  add_mode: g.addMode,
  mute_all: g.muteAll,
  created_at: formatRfc3339(g.createdAt),
  updated_at: formatRfc3339(g.updatedAt),
});

/**
 * Group member (legacy-contract §2.20): `role` 1 for the owner, else 0 (admins too, as the legacy
 * client reads it); `member_role` "owner" | "admin" | "member" is an addition (legacy-contract D29).
 */
export const toGroupMember = (m: GroupMemberView) => ({
  user_id: m.userId,
  username: m.username,
  nickname: m.nickname,
  avatar: m.avatar,
  gender: m.gender,
  role: m.role === "owner" ? 1 : 0,
  member_role: m.role,
});
