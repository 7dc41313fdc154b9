import { ContactType, contactApplies, contacts, groups, sessions, streamEvents } from "@omnilink/db";
import { and, asc, eq, gt, inArray, max } from "drizzle-orm";
import { applyFriend, approveFriend } from "../src/contacts/index.js";
import type { DomainContext } from "../src/context.js";
import { createGroup } from "../src/groups/create-group.js";
import { sendMessage } from "../src/messages/send.js";
import { sendMessageInput } from "../src/messages/schemas.js";
import type { StreamItem } from "../src/realtime/events.js";
import { userStream } from "../src/realtime/subscribe.js";
import { openSession } from "../src/sessions/open.js";
import { newUser } from "./helpers.js";

/** A group whose owner and members are fresh users. */
export async function groupWith(ctx: DomainContext, memberCount: number) {
  const owner = await newUser(ctx, "owner");
  const members: string[] = [];
  for (let i = 0; i < memberCount; i++) members.push(await newUser(ctx, "member"));
  const group = await createGroup(ctx, owner, { name: "test group", notice: "", memberIds: members });
  return { owner, members, groupId: group.uuid };
}

/** Two users who are friends with both sessions open, ready for private messages. */
export async function friendsWithSessions(ctx: DomainContext) {
  const a = await newUser(ctx, "alice");
  const b = await newUser(ctx, "bob");
  await ctx.db.insert(contacts).values([
    { userId: a, contactId: b, contactType: ContactType.user, status: 0 },
    { userId: b, contactId: a, contactType: ContactType.user, status: 0 },
  ]);
  await openSession(ctx, a, b);
  return { a, b };
}

export function send(ctx: DomainContext, from: string, to: string, content: string, extra: Record<string, unknown> = {}) {
  return sendMessage(ctx, from, sendMessageInput.parse({ receiveId: to, content, ...extra }));
}

/** Two users who became friends the regular way: a's request to b, approved by b. */
export async function approvedFriends(ctx: DomainContext, message = ""): Promise<[string, string]> {
  const a = await newUser(ctx, "fa");
  const b = await newUser(ctx, "fb");
  const { applyId } = await applyFriend(ctx, a, { targetId: b, message });
  await approveFriend(ctx, b, applyId);
  return [a, b];
}

const membershipOf = (userId: string, groupId: string) =>
  and(eq(contacts.userId, userId), eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group));

export async function setMemberStatus(ctx: DomainContext, userId: string, groupId: string, status: number) {
  await ctx.db.update(contacts).set({ status }).where(membershipOf(userId, groupId));
}

/** The status of the user's membership row in the group, undefined when there is none. */
export async function memberStatus(ctx: DomainContext, userId: string, groupId: string): Promise<number | undefined> {
  const [row] = await ctx.db.select({ status: contacts.status }).from(contacts).where(membershipOf(userId, groupId));
  return row?.status;
}

/** The group's member_cnt and the real number of active (normal or muted) membership rows, which must always agree. */
export async function memberCount(ctx: DomainContext, groupId: string): Promise<{ cnt: number | undefined; real: number }> {
  const [g] = await ctx.db.select({ cnt: groups.memberCnt }).from(groups).where(eq(groups.uuid, groupId));
  const real = await ctx.db.$count(
    contacts,
    and(eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group), inArray(contacts.status, [0, 5])),
  );
  return { cnt: g?.cnt, real };
}

/** The contact_applies row (friend or join request), undefined when there is none. */
export async function applyRow(ctx: DomainContext, applyId: string) {
  const [row] = await ctx.db.select().from(contactApplies).where(eq(contactApplies.uuid, applyId));
  return row;
}

export async function sessionRow(ctx: DomainContext, userId: string, peerId: string) {
  const [row] = await ctx.db
    .select()
    .from(sessions)
    .where(and(eq(sessions.sendId, userId), eq(sessions.receiveId, peerId)));
  return row;
}

/** The id of the newest stream event (0 when there is none): pass it to eventsSince. */
export async function streamMark(ctx: DomainContext): Promise<number> {
  const [row] = await ctx.db.select({ id: max(streamEvents.id) }).from(streamEvents);
  return Number(row?.id ?? 0);
}

/** The stream events written after `mark`, oldest first. */
export async function eventsSince(ctx: DomainContext, mark: number) {
  return ctx.db
    .select({ type: streamEvents.type, groupId: streamEvents.groupId, userIds: streamEvents.userIds, payload: streamEvents.payload })
    .from(streamEvents)
    .where(gt(streamEvents.id, mark))
    .orderBy(asc(streamEvents.id));
}

/**
 * Reads a user's stream in the background; `until(n)` waits for n items. Without `after`, it first
 * waits until everything committed so far has been ordered and handed out, so "from now" is exact
 * (a live subscriber otherwise also gets rows committed just before it subscribed but not ordered
 * yet, which is what a real client wants).
 */
export function collect(ctx: DomainContext, userId: string, after?: number) {
  const controller = new AbortController();
  const items: StreamItem[] = [];
  let error: unknown;
  const waiters: Array<() => void> = [];
  const done = (async () => {
    try {
      if (after === undefined) await ctx.dispatcher.reach(await ctx.ticker.kick());
      for await (const item of userStream(ctx, userId, { after, signal: controller.signal })) {
        items.push(item);
        waiters.splice(0).forEach((w) => w());
      }
    } catch (e) {
      error = e;
    }
    waiters.splice(0).forEach((w) => w());
  })();
  return {
    items,
    get error() {
      return error;
    },
    async until(count: number, timeoutMs = 10_000): Promise<StreamItem[]> {
      const deadline = Date.now() + timeoutMs;
      while (items.length < count) {
        if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
        if (Date.now() > deadline) throw new Error(`timed out with ${items.length}/${count} items`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return items;
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}

/** Lets queued deliveries settle (nothing more should arrive after this). */
export const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));
