import type { Queryable } from "@omnilink/db";
import { isGroupId } from "../ids.js";
import { membershipEffect, MEMBERSHIP_EVENT_TYPES, type StreamItem } from "./events.js";
import { loadAudience, membershipEventsAfter } from "./stream-queries.js";

/**
 * Which groups a user belonged to at a stream position, from the database alone.
 *
 * Every membership change writes, in its own transaction, an event that lists the users it
 * affects. So for each group, the user's first membership event after `position` (ticked after
 * it, or committed and not ticked yet) tells what they were at `position` (a join: not a member; a
 * leave, kick or dismissal: a member), and a group with no such event has not changed for them
 * since: its current state is the state at `position`. The events are read after the current
 * memberships, so every change the first read reflects has its event in the second.
 *
 * Returns the groups at `position` and every group whose membership for the user changed after it.
 */
export async function membershipAt(
  db: Queryable,
  userId: string,
  position: number,
): Promise<{ groups: Set<string>; changedSince: Set<string>; privateConversationIds: string[] }> {
  const audience = await loadAudience(db, userId);
  const events = await membershipEventsAfter(db, userId, position, MEMBERSHIP_EVENT_TYPES);
  const groups = new Set(audience.groupIds);
  const changedSince = new Set<string>();
  for (const event of events) {
    const groupId = event.groupId;
    if (!groupId || changedSince.has(groupId)) continue;
    const effect = membershipEffect(event);
    if (effect.joined.includes(userId)) groups.delete(groupId);
    else if (effect.removed.includes(userId)) groups.add(groupId);
    else continue;
    changedSince.add(groupId);
  }
  return { groups, changedSince, privateConversationIds: audience.privateConversationIds };
}

/**
 * What a user is entitled to hear, walked in stream order from a known membership: messages of
 * the groups they belong to at that point of the stream, their private conversations' messages,
 * events of those groups and events addressed to them. Membership events move the membership as
 * they pass, so a leave at id N admits everything of the group before N, the leave itself, and
 * nothing after it. The dispatcher applies the same rule to live items (see StreamDispatcher).
 */
export class Entitlement {
  constructor(
    private readonly userId: string,
    /** The user's groups at the position the walk starts from; updated as items pass. */
    readonly groups: Set<string>,
  ) {}

  admits(item: StreamItem): boolean {
    if (item.kind === "message") {
      const m = item.message;
      return isGroupId(m.receiveId) ? this.groups.has(m.receiveId) : m.sendId === this.userId || m.receiveId === this.userId;
    }
    const { event } = item;
    const groupId = event.groupId;
    const effect = membershipEffect(event);
    if (groupId && effect.joined.includes(this.userId)) this.groups.add(groupId);
    const admitted = event.userIds.includes(this.userId) || (groupId !== null && this.groups.has(groupId));
    if (groupId && effect.removed.includes(this.userId)) this.groups.delete(groupId);
    return admitted;
  }
}
