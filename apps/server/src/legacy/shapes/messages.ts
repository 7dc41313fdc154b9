import type { MessageView } from "@omnilink/domain";
import { formatRfc3339 } from "../format.js";
import { omitEmpty } from "./omit.js";

const OMIT_EMPTY = [
  "session_id",
  "send_name",
  "send_avatar",
  "content",
  "url",
  "file_type",
  "file_name",
  "file_size",
  "mentioned_user_ids",
  "mention_all",
] as const;

/**
 * MessageItem (legacy-contract §4.5): `uuid, send_id, receive_id, type, created_at` always; the others omitted
 * when empty (so group items have no `session_id` and private items no mention keys). `seq`, the
 * message's place in its conversation, is an addition (legacy-contract D16).
 */
export function toMessageItem(m: MessageView) {
  return omitEmpty(
    {
      uuid: m.uuid,
      session_id: m.sessionId,
      send_id: m.sendId,
      send_name: m.sendName,
      send_avatar: m.sendAvatar,
      receive_id: m.receiveId,
      type: m.type,
      content: m.content,
      url: m.url,
      file_type: m.fileType,
      file_name: m.fileName,
      file_size: m.fileSize,
      created_at: formatRfc3339(m.createdAt),
      mentioned_user_ids: m.mentionedUserIds,
      mention_all: m.mentionAll,
      seq: m.seq,
    },
    OMIT_EMPTY,
  );
}
