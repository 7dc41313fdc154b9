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

export type RequestKind = "friend" | "join";

/** Event bodies by type. Membership-changing types list the users they affect. */
export interface EventPayloads {
  "group.created": { name: string; ownerId: string; memberIds: string[] };
  "group.updated": { changes: { name?: string; notice?: string; avatar?: string; addMode?: number } };
  "group.dismissed": { by: string };
  "owner.transferred": { from: string; to: string };
  "member.joined": { userIds: string[]; by: string; via: "invite" | "approval" };
  "member.left": { userId: string };
  "member.removed": { userIds: string[]; by: string };
  "member.muted": { userId: string; by: string };
  "member.unmuted": { userId: string; by: string };
  // Group admins and mute-all (legacy-contract D28–D30).
  /** The owner appointed (`admin`) or revoked (`member`) an admin; to the group's members. */
  "member.role": { userId: string; role: "admin" | "member"; by: string };
  /** An owner or admin switched mute-all; to the group's members. */
  "group.muteAll": { muted: boolean; by: string };
  "request.created": { applyId: string; kind: RequestKind; applicantId: string; targetId: string; message: string; invitedBy: string | null };
  "request.decided": { applyId: string; kind: RequestKind; applicantId: string; targetId: string; approved: boolean; by: string };
  "friend.removed": { by: string; userId: string };
  /** Addressed to the blocker only: the blocked user is not told. */
  "contact.blocked": { by: string; userId: string };
  "contact.unblocked": { by: string; userId: string };
  // Recall and search (messages/recall.ts).
  /** A message was recalled: to the group's members, or to both parties of a private chat. `messageId` is its uuid. */
  "message.recalled": { messageId: string; conversationId: string; seq: number; by: string };
}

export type EventType = keyof EventPayloads;

export interface StreamEventView<T extends EventType = EventType> {
  id: number;
  type: T;
  /** Delivered to the group's active members when set. */
  groupId: string | null;
  /** Delivered to these users too (the affected or addressed users). */
  userIds: string[];
  payload: EventPayloads[T];
  createdAt: Date;
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
      return { ...none, joined: (event.payload as EventPayloads["group.created"]).memberIds };
    case "member.joined":
      return { ...none, joined: (event.payload as EventPayloads["member.joined"]).userIds };
    case "member.left":
      return { ...none, removed: [(event.payload as EventPayloads["member.left"]).userId] };
    case "member.removed":
      return { ...none, removed: (event.payload as EventPayloads["member.removed"]).userIds };
    case "group.dismissed":
      // A dismissal names every member in userIds.
      return { ...none, removed: event.userIds, dismissed: true };
    default:
      return none;
  }
}
