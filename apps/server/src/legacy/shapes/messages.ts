import { RECALLED_PREVIEW, type MessageView } from "@omnilink/domain";
import { formatRfc3339 } from "../format.js";

/**
 * MessageItem (legacy-contract §4.5), the one shape of a message for legacy clients: history pages
 * and /wss frames alike. `uuid, send_id, receive_id, type, created_at` always; the others are
 * left out when empty, as Go's `omitempty` did (so group items have no `session_id` and private
 * items no mention keys; the client spreads the item over its own fallbacks, so an empty string
 * sent would win over them). `seq`, the message's place in its conversation, is an addition
 * (legacy-contract D16).
 *
 * `sessionId` is the viewer's session for private messages: the sender's own copy carries the
 * sender's, the receiver's copy the receiver's (the stored value is the sender's).
 *
 * A recalled message (legacy-contract D31) keeps its uuid, seq and place, and reads as a text item
 * whose `content` is the placeholder: type 0 (the client draws any other type from its url, which
 * is gone), no url, file or mention keys, plus `recalled_at` and `recalled_by`.
 *
 * Built key by key rather than by deleting from a full object: it runs once per frame on the live
 * path, and objects that keep one shape serialise faster.
 */
export function toMessageItem(m: MessageView, sessionId: string = m.sessionId): Record<string, unknown> {
  const recalled = m.recalledAt !== null;
  const item: Record<string, unknown> = { uuid: m.uuid };
  if (sessionId) item.session_id = sessionId;
  item.send_id = m.sendId;
  if (m.sendName) item.send_name = m.sendName;
  if (m.sendAvatar) item.send_avatar = m.sendAvatar;
  item.receive_id = m.receiveId;
  item.type = recalled ? 0 : m.type;
  if (recalled) item.content = RECALLED_PREVIEW;
  else {
    if (m.content) item.content = m.content;
    if (m.url) item.url = m.url;
    if (m.fileType) item.file_type = m.fileType;
    if (m.fileName) item.file_name = m.fileName;
    if (m.fileSize) item.file_size = m.fileSize;
  }
  item.created_at = formatRfc3339(m.createdAt);
  if (!recalled && m.mentionedUserIds.length > 0) item.mentioned_user_ids = m.mentionedUserIds;
  if (!recalled && m.mentionAll) item.mention_all = true;
  item.seq = m.seq;
  if (m.recalledAt) {
    item.recalled_at = formatRfc3339(m.recalledAt);
    item.recalled_by = m.recalledBy ?? "";
  }
  return item;
}
