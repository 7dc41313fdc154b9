import { ContactType, contacts, sessions } from "@omnilink/db";
import { and, eq } from "drizzle-orm";
import type { DomainContext } from "../src/context.js";
import { AppError } from "../src/errors.js";
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

export async function setMemberStatus(ctx: DomainContext, userId: string, groupId: string, status: number) {
  await ctx.db
    .update(contacts)
    .set({ status })
    .where(and(eq(contacts.userId, userId), eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group)));
}

export async function sessionRow(ctx: DomainContext, userId: string, peerId: string) {
  const [row] = await ctx.db
    .select()
    .from(sessions)
    .where(and(eq(sessions.sendId, userId), eq(sessions.receiveId, peerId)));
  return row;
}

export async function rejectionOf(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

/** Reads a user's stream in the background; `until(n)` waits for n items. */
export function collect(ctx: DomainContext, userId: string, after?: number) {
  const controller = new AbortController();
  const items: StreamItem[] = [];
  let error: unknown;
  const waiters: Array<() => void> = [];
  const done = (async () => {
    try {
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
