import type { Session, UserProfile } from "@omnilink/domain";
import { formatDateTime } from "../format.js";

/** LoginRespond / RegisterRespond: every key always present (legacy-contract §2.1). */
export function toLoginData(session: Session) {
  return { ...toProfile(session.user), token: session.token };
}

function toProfile(u: UserProfile) {
  return {
    uuid: u.uuid,
    username: u.username,
    nickname: u.nickname,
    avatar: u.avatar,
    gender: u.gender,
    birthday: u.birthday,
    signature: u.signature,
    created_at: formatDateTime(u.createdAt),
    is_admin: u.isAdmin,
    status: u.status,
  };
}

/**
 * `/user/internal/getUserInfo` (legacy-contract §2.4). The domain's profile has no numeric row id and no
 * online/offline times, so `id` is left out and the two times are "" (the legacy value for
 * "never"); nothing records them yet.
 */
export function toUserInfo(u: UserProfile) {
  return { ...toProfile(u), last_online_at: "", last_offline_at: "" };
}
