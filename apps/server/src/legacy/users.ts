import type { Session, UserProfile } from "@omnilink/domain";
import { formatDateTime } from "./format.js";

/** LoginRespond / RegisterRespond: every key always present (legacy §2.1). */
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
