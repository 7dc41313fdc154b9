import { RECALLED_PREVIEW, type MessageView, type StreamEventView } from "@omnilink/domain";
import { formatRfc3339 } from "../legacy/format.js";

/**
 * A legacy message item (legacy-contract §4.5): omitempty keys are left out when empty; `seq` is ours (D16). A
 * message already recalled when it is handed out reads as the history shows it (legacy-contract D31).
 */
export function messageFrame(m: MessageView, sessionId: string): Record<string, unknown> {
  const recalled = m.recalledAt !== null;
  const frame: Record<string, unknown> = { uuid: m.uuid };
  if (sessionId) frame.session_id = sessionId;
  frame.send_id = m.sendId;
  if (m.sendName) frame.send_name = m.sendName;
  if (m.sendAvatar) frame.send_avatar = m.sendAvatar;
  frame.receive_id = m.receiveId;
  frame.type = recalled ? 0 : m.type;
  for (const [key, value] of [
    ["content", recalled ? RECALLED_PREVIEW : m.content],
    ["url", m.url],
    ["file_type", m.fileType],
    ["file_name", m.fileName],
    ["file_size", m.fileSize],
  ] as const) {
    if (value) frame[key] = value;
  }
  frame.created_at = formatRfc3339(m.createdAt);
  if (m.mentionedUserIds.length > 0) frame.mentioned_user_ids = m.mentionedUserIds;
  if (m.mentionAll) frame.mention_all = true;
  frame.seq = m.seq;
  if (m.recalledAt) {
    frame.recalled_at = formatRfc3339(m.recalledAt);
    frame.recalled_by = m.recalledBy ?? "";
  }
  return frame;
}

/** `{"type":"error","message":"Code: 403, Message: …"}`: no id fields, or the client would render it (legacy-contract D14). */
export function errorFrame(code: number, message: string) {
  return { type: "error", message: `Code: ${code}, Message: ${message}` };
}

/**
 * Events as frames. A join or friend request becomes the legacy `contact.apply` push (legacy-contract D6: to the
 * owner and admins for group requests, D28); every other event is a frame of our own with a string type and no
 * send_id/receive_id, which the legacy client ignores (legacy-contract D15).
 */
export function eventFrame(event: StreamEventView): Record<string, unknown> {
  if (event.type === "request.created") {
    const p = event.payload as { applyId: string; applicantId: string };
    return { type: "contact.apply", apply_id: p.applyId, from_user_id: p.applicantId, created_at: formatRfc3339(event.createdAt) };
  }
  return { type: event.type, event_id: event.id, group_id: event.groupId ?? "", user_ids: event.userIds, payload: event.payload };
}
