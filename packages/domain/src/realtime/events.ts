import { z } from "zod";

/**
 * What the live stream carries. Every row has an id from event_stream_seq; its place in the
 * stream is decided after commit by a tick (see ticker.ts), so "everything after the item with
 * id X" is a complete, ordered resume point.
 */

export interface MessageView {
  /** Stream id. */
  id: number;
  uuid: string;
  conversationId: string;
  seq: number;
  /** Legacy: the sender's session uuid for private messages, "" for group messages. */
  sessionId: string;
  type: number;
  content: string;
  url: string;
  sendId: string;
  sendName: string;
  sendAvatar: string;
  /** The peer user (private) or the group. */
  receiveId: string;
  fileType: string;
  fileName: string;
  fileSize: string;
  mentionedUserIds: string[];
  mentionAll: boolean;
  clientMsgId: string | null;
  createdAt: Date;
  /**
   * Set when the message was recalled (see messages/recall.ts): its content, url, file fields and
   * mentions are then empty, and clients show a marker in its place.
   */
  recalledAt: Date | null;
  /** Who recalled it: the sender, the group's owner or an admin. */
  recalledBy: string | null;
}

const id = z.string();
const ids = z.array(id);
const requestKind = z.enum(["friend", "join"]);
export type RequestKind = z.infer<typeof requestKind>;

/**
 * Event bodies by type, as schemas: the stream's one description of what each event carries.
 * Membership-changing types list the users they affect. Rows read back (from the database or
 * another node) are checked against these once, by parseStreamEvent, so every consumer can
 * switch on `type` and read a typed payload.
 */
const eventPayloadSchemas = {
  "group.created": z.object({ name: z.string(), ownerId: id, memberIds: ids }),
  "group.updated": z.object({
    changes: z.object({ name: z.string().optional(), notice: z.string().optional(), avatar: z.string().optional(), addMode: z.number().optional() }),
  }),
  "group.dismissed": z.object({ by: id }),
  "owner.transferred": z.object({ from: id, to: id }),
  "member.joined": z.object({ userIds: ids, by: id, via: z.enum(["invite", "approval"]) }),
  "member.left": z.object({ userId: id }),
  "member.removed": z.object({ userIds: ids, by: id }),
  "member.muted": z.object({ userId: id, by: id }),
  "member.unmuted": z.object({ userId: id, by: id }),
  // Group admins and mute-all (legacy-contract D28–D30).
  /** The owner appointed (`admin`) or revoked (`member`) an admin; to the group's members. */
  "member.role": z.object({ userId: id, role: z.enum(["admin", "member"]), by: id }),
  /** An owner or admin switched mute-all; to the group's members. */
  "group.muteAll": z.object({ muted: z.boolean(), by: id }),
  "request.created": z.object({ applyId: id, kind: requestKind, applicantId: id, targetId: id, message: z.string(), invitedBy: id.nullable() }),
  "request.decided": z.object({ applyId: id, kind: requestKind, applicantId: id, targetId: id, approved: z.boolean(), by: id }),
  "friend.removed": z.object({ by: id, userId: id }),
  /** Addressed to the blocker only: the blocked user is not told. */
  "contact.blocked": z.object({ by: id, userId: id }),
  "contact.unblocked": z.object({ by: id, userId: id }),
  // Recall (messages/recall.ts).
  /** A message was recalled: to the group's members, or to both parties of a private chat. `messageId` is its uuid. */
  "message.recalled": z.object({ messageId: id, conversationId: id, seq: z.number(), by: id }),
};

export type EventPayloads = { [T in keyof typeof eventPayloadSchemas]: z.infer<(typeof eventPayloadSchemas)[T]> };
export type EventType = keyof EventPayloads;

/** One stream event of type T. */
export interface StreamEventOf<T extends EventType> {
  id: number;
  type: T;
  /** Delivered to the group's active members when set. */
  groupId: string | null;
  /** Delivered to these users too (the affected or addressed users). */
  userIds: string[];
  payload: EventPayloads[T];
  createdAt: Date;
}

/** Any stream event: a union discriminated by `type`, so a switch on it types the payload. */
export type StreamEventView = { [T in EventType]: StreamEventOf<T> }[EventType];

/** A stream event row as storage or the bus hands it over: the payload not yet checked. */
export interface RawStreamEvent {
  id: number | string;
  type: string;
  groupId: string | null;
  userIds: string[];
  payload: unknown;
  createdAt: Date | string;
}

/**
 * The one place an event from outside the process becomes a StreamEventView: its type must be
 * known and its payload match that type's schema. Undefined otherwise (a row written by a newer
 * or older version that this one cannot read; callers log and skip it, as they cannot deliver what
 * they do not understand).
 */
export function parseStreamEvent(row: RawStreamEvent): StreamEventView | undefined {
  if (!Object.hasOwn(eventPayloadSchemas, row.type)) return undefined;
  const type = row.type as EventType;
  const payload = eventPayloadSchemas[type].safeParse(row.payload);
  if (!payload.success) return undefined;
  // The schema looked up by `type` has just checked the payload, so the pair is consistent.
  return { id: Number(row.id), type, groupId: row.groupId, userIds: row.userIds, payload: payload.data, createdAt: new Date(row.createdAt) } as StreamEventView;
}

/**
 * A stream row as subscribers get it. `id` is the row's id (the cursor clients resume from);
 * `pos` its stream position (see positions.ts), 0 until a tick has ordered it.
 */
export type StreamItem = ({ kind: "message"; id: number; message: MessageView } | { kind: "event"; id: number; event: StreamEventView }) & { pos: number };

/** The event types that change who belongs to a group (see membershipEffect). */
export const MEMBERSHIP_EVENT_TYPES = ["group.created", "member.joined", "member.left", "member.removed", "group.dismissed"] as const satisfies EventType[];

/**
 * How an event changes who belongs to its group, applied in stream order by every node. Every
 * membership-changing event also lists the affected users in `userIds`, so they hear it.
 */
export function membershipEffect(event: StreamEventView): { joined: string[]; removed: string[]; dismissed: boolean } {
  const none = { joined: [], removed: [], dismissed: false };
  switch (event.type) {
    case "group.created":
      return { ...none, joined: event.payload.memberIds };
    case "member.joined":
      return { ...none, joined: event.payload.userIds };
    case "member.left":
      return { ...none, removed: [event.payload.userId] };
    case "member.removed":
      return { ...none, removed: event.payload.userIds };
    case "group.dismissed":
      // A dismissal names every member in userIds.
      return { ...none, removed: event.userIds, dismissed: true };
    default:
      return none;
  }
}
