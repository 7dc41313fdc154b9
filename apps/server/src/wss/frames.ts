import type { StreamEventView } from "@omnilink/domain";
import { legacyError } from "../legacy/envelope.js";
import { formatRfc3339 } from "../legacy/format.js";

/**
 * `{"type":"error","message":"Code: 403, Message: …"}` for a refused send: the code and message a
 * REST answer would carry (legacyError), and no id fields, or the client would render it
 * (legacy-contract D14).
 */
export function errorFrame(error: unknown): { frame: { type: "error"; message: string }; unexpected: boolean } {
  const { code, message, unexpected } = legacyError(error);
  return { frame: { type: "error", message: `Code: ${code}, Message: ${message}` }, unexpected };
}

/**
 * Events as frames. A join or friend request becomes the legacy `contact.apply` push (legacy-contract D6: to the
 * owner and admins for group requests, D28); every other event is a frame of our own with a string type and no
 * send_id/receive_id, which the legacy client ignores (legacy-contract D15).
 */
export function eventFrame(event: StreamEventView): Record<string, unknown> {
  if (event.type === "request.created") {
    return { type: "contact.apply", apply_id: event.payload.applyId, from_user_id: event.payload.applicantId, created_at: formatRfc3339(event.createdAt) };
  }
  return { type: event.type, event_id: event.id, group_id: event.groupId ?? "", user_ids: event.userIds, payload: event.payload };
}
