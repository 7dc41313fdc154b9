import type { SessionItem } from "@omnilink/domain";
import { formatRfc3339 } from "../format.js";
import { omitEmpty } from "./omit.js";

/**
 * Session-list item (legacy-contract §2.14, §2.15): `session_id, peer_id, peer_type, peer_name, peer_avatar,
 * updated_at, last_msg` with `last_msg` omitted when empty. `unread_count` is always sent (legacy-contract D11),
 * and so is `mention_count`, the unread messages that mention the caller (legacy-contract D34).
 */
export function toSessionListItem(s: SessionItem) {
  return {
    ...omitEmpty(
      {
        session_id: s.sessionId,
        peer_id: s.peerId,
        peer_type: s.peerType,
        peer_name: s.peerName,
        peer_avatar: s.peerAvatar,
        updated_at: formatRfc3339(s.updatedAt),
        last_msg: s.lastMessage,
      },
      ["peer_id", "peer_type", "peer_name", "peer_avatar", "updated_at", "last_msg"],
    ),
    unread_count: s.unreadCount,
    mention_count: s.mentionCount,
  };
}

/** openSession's item (legacy-contract §2.13): the list item plus the raw session keys (`send_id`, `receive_id`, `receive_name`, `avatar`). */
export function toOpenedSession(s: SessionItem, callerId: string) {
  return {
    ...omitEmpty({ send_id: callerId, receive_id: s.peerId, receive_name: s.peerName, avatar: s.peerAvatar }, [
      "send_id",
      "receive_id",
      "receive_name",
      "avatar",
    ]),
    ...toSessionListItem(s),
  };
}
