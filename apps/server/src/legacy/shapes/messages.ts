import { RECALLED_PREVIEW, type MessageView } from "@omnilink/domain";
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
  "recalled_at",
  "recalled_by",
] as const;

/**
 * MessageItem (legacy-contract §4.5): `uuid, send_id, receive_id, type, created_at` always; the others omitted
 * when empty (so group items have no `session_id` and private items no mention keys). `seq`, the
 * message's place in its conversation, is an addition (legacy-contract D16).
 *
 * A recalled message (legacy-contract D31) keeps its uuid, seq and place, and reads as a text item
 * whose `content` is the placeholder: type 0 (the client draws any other type from its url, which
 * is gone), no url, file or mention keys, plus `recalled_at` and `recalled_by`.
 */
export function toMessageItem(m: MessageView) {
  const recalled = m.recalledAt !== null;
  return omitEmpty(
    {
      uuid: m.uuid,
      session_id: m.sessionId,
      send_id: m.sendId,
      send_name: m.sendName,
      send_avatar: m.sendAvatar,
      receive_id: m.receiveId,
      type: recalled ? 0 : m.type,
      content: recalled ? RECALLED_PREVIEW : m.content,
      url: m.url,
      file_type: m.fileType,
      file_name: m.fileName,
      file_size: m.fileSize,
      created_at: formatRfc3339(m.createdAt),
      mentioned_user_ids: m.mentionedUserIds,
      mention_all: m.mentionAll,
      seq: m.seq,
      recalled_at: m.recalledAt ? formatRfc3339(m.recalledAt) : "",
      recalled_by: m.recalledBy ?? "",
    },
    OMIT_EMPTY,
  );
}
