import { ApplyStatus, contactApplies, contacts, conversations, sessions, streamEvents, users } from "@omnilink/db";
import { and, asc, eq, gt } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyFriend,
  approveFriend,
  friendship,
  listFriends,
  listPendingApplies,
  rejectFriend,
} from "../src/contacts/index.js";
import type { DomainContext } from "../src/context.js";
import { AppError, type ErrorKind } from "../src/errors.js";
import { privateConversationId } from "../src/ids.js";
import { createTestContext, newUser, type TestContext } from "./helpers.js";

let t: TestContext;
let ctx: DomainContext;
beforeAll(async () => {
  t = await createTestContext();
  ctx = t.ctx;
});
afterAll(async () => {
  await t.dispose();
});

async function expectError(p: Promise<unknown>, kind: ErrorKind, message: string): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect({ kind: (error as AppError).kind, message: (error as AppError).message }).toEqual({ kind, message });
}

const applyRow = async (applyId: string) => {
  const [row] = await ctx.db.select().from(contactApplies).where(eq(contactApplies.uuid, applyId));
  return row;
};

const edges = (a: string, b: string) =>
  ctx.db
    .select({ userId: contacts.userId, contactId: contacts.contactId, status: contacts.status })
    .from(contacts)
    .where(and(eq(contacts.contactType, 0), eq(contacts.userId, a), eq(contacts.contactId, b)));

/** Stream events written after `after`, oldest first. */
async function eventsAfter(after: number) {
  return ctx.db
    .select({ id: streamEvents.id, type: streamEvents.type, groupId: streamEvents.groupId, userIds: streamEvents.userIds, payload: streamEvents.payload })
    .from(streamEvents)
    .where(gt(streamEvents.id, after))
    .orderBy(asc(streamEvents.id));
}
async function lastEventId(): Promise<number> {
  const rows = await ctx.db.select({ id: streamEvents.id }).from(streamEvents);
  return Math.max(0, ...rows.map((r) => r.id));
}

/** Two users who are friends (an approved request from a to b). */
async function friends(): Promise<[string, string]> {
  const a = await newUser(ctx, "fa");
  const b = await newUser(ctx, "fb");
  const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "hi" });
  await approveFriend(ctx, b, applyId);
  return [a, b];
}

describe("applyFriend", () => {
  it("creates one pending request and tells the target on the stream", async () => {
    const a = await newUser(ctx, "ap");
    const b = await newUser(ctx, "ap");
    const before = await lastEventId();
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "  hello  " });
    expect(applyId).toMatch(/^A[0-9A-Za-z]{11}$/);
    expect(await applyRow(applyId)).toMatchObject({ userId: a, contactId: b, contactType: 0, status: 0, message: "hello", invitedBy: null });
    const events = await eventsAfter(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "request.created",
      groupId: null,
      userIds: [b],
      payload: { applyId, kind: "friend", applicantId: a, targetId: b, message: "hello", invitedBy: null },
    });
  });

  it("refuses bad input, self, unknown and disabled users with the legacy texts", async () => {
    const a = await newUser(ctx, "ae");
    const disabled = await newUser(ctx, "ae");
    await ctx.db.update(users).set({ status: 1 }).where(eq(users.uuid, disabled));
    await expectError(applyFriend(ctx, a, { targetId: " ", message: "" }), "BAD_REQUEST", "参数错误");
    await expectError(applyFriend(ctx, a, { targetId: a, message: "" }), "BAD_REQUEST", "不能添加自己");
    await expectError(applyFriend(ctx, a, { targetId: "U00000000000", message: "" }), "NOT_FOUND", "用户不存在");
    await expectError(applyFriend(ctx, a, { targetId: disabled, message: "" }), "FORBIDDEN", "用户不可用");
    expect(await ctx.db.$count(contactApplies, eq(contactApplies.userId, a))).toBe(0);
  });

  it("refuses when already friends, or when either side has blocked the other", async () => {
    const [a, b] = await friends();
    await expectError(applyFriend(ctx, a, { targetId: b, message: "" }), "CONFLICT", "已是好友");
    // Blocks are written directly here; block.ts has its own tests.
    await ctx.db.update(contacts).set({ status: 1 }).where(and(eq(contacts.userId, a), eq(contacts.contactId, b)));
    await ctx.db.update(contacts).set({ status: 2 }).where(and(eq(contacts.userId, b), eq(contacts.contactId, a)));
    await expectError(applyFriend(ctx, a, { targetId: b, message: "" }), "BAD_REQUEST", "您已将对方拉黑");
    await expectError(applyFriend(ctx, b, { targetId: a, message: "" }), "FORBIDDEN", "对方已将您拉黑");
  });

  it("re-applying after a refusal resets the same row to pending with the new message", async () => {
    const a = await newUser(ctx, "ra");
    const b = await newUser(ctx, "rb");
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "first" });
    await rejectFriend(ctx, b, applyId);
    const rejected = await applyRow(applyId);
    expect(rejected).toMatchObject({ status: ApplyStatus.rejected, decidedBy: b });
    await new Promise((r) => setTimeout(r, 5));
    const again = await applyFriend(ctx, a, { targetId: b, message: "second" });
    expect(again.applyId).toBe(applyId);
    const row = await applyRow(applyId);
    expect(row).toMatchObject({ status: ApplyStatus.pending, message: "second", decidedBy: null, decidedAt: null });
    expect(row!.lastApplyAt.getTime()).toBeGreaterThan(rejected!.lastApplyAt.getTime());
    expect(await ctx.db.$count(contactApplies, and(eq(contactApplies.userId, a), eq(contactApplies.contactId, b)))).toBe(1);
  });

  it("leaves exactly one row when the same request is sent 20 times at once", async () => {
    const a = await newUser(ctx, "ca");
    const b = await newUser(ctx, "cb");
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => applyFriend(ctx, a, { targetId: b, message: `m${i}` })));
    expect(new Set(results.map((r) => r.applyId)).size).toBe(1);
    expect(await ctx.db.$count(contactApplies, and(eq(contactApplies.userId, a), eq(contactApplies.contactId, b)))).toBe(1);
    expect((await applyRow(results[0]!.applyId))?.status).toBe(0);
  });
});

describe("listPendingApplies (friend requests)", () => {
  it("lists the pending requests addressed to me, newest first, with the applicant's profile", async () => {
    const me = await newUser(ctx, "pm");
    const older = await newUser(ctx, "po");
    const newer = await newUser(ctx, "pn");
    const decided = await newUser(ctx, "pd");
    const first = await applyFriend(ctx, older, { targetId: me, message: "older" });
    await new Promise((r) => setTimeout(r, 5));
    const second = await applyFriend(ctx, newer, { targetId: me, message: "" });
    const refused = await applyFriend(ctx, decided, { targetId: me, message: "no" });
    await rejectFriend(ctx, me, refused.applyId);
    await applyFriend(ctx, me, { targetId: older, message: "mine, not to me" });

    const list = await listPendingApplies(ctx, me);
    expect(list.map((i) => i.applyId)).toEqual([second.applyId, first.applyId]);
    const [profile] = await ctx.db.select().from(users).where(eq(users.uuid, older));
    expect(list[1]).toEqual({
      applyId: first.applyId,
      kind: "friend",
      userId: older,
      username: profile!.username,
      nickname: profile!.nickname,
      avatar: profile!.avatar,
      message: "older",
      status: 0,
      lastApplyAt: expect.any(Date) as Date,
      groupId: null,
      groupName: null,
      invitedBy: null,
    });
    expect(await listPendingApplies(ctx, decided)).toEqual([]);
  });
});

describe("approveFriend", () => {
  it("makes both rows normal, creates the conversation but no session, and tells both", async () => {
    const a = await newUser(ctx, "pa");
    const b = await newUser(ctx, "pb");
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "" });
    const before = await lastEventId();
    expect(await approveFriend(ctx, b, applyId)).toEqual({ changed: true });

    expect(await applyRow(applyId)).toMatchObject({ status: ApplyStatus.approved, decidedBy: b, decidedAt: expect.any(Date) as Date });
    expect(await edges(a, b)).toEqual([{ userId: a, contactId: b, status: 0 }]);
    expect(await edges(b, a)).toEqual([{ userId: b, contactId: a, status: 0 }]);
    expect(await ctx.db.$count(conversations, eq(conversations.id, privateConversationId(a, b)))).toBe(1);
    expect(await ctx.db.$count(sessions, eq(sessions.sendId, a))).toBe(0);
    expect(await ctx.db.$count(sessions, eq(sessions.sendId, b))).toBe(0);
    expect(await friendship(ctx.db, a, b)).toBe(0);
    expect(await listPendingApplies(ctx, b)).toEqual([]);

    const events = await eventsAfter(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "request.decided",
      groupId: null,
      userIds: [a, b],
      payload: { applyId, kind: "friend", applicantId: a, targetId: b, approved: true, by: b },
    });
  });

  it("is a no-op the second time, and only for the addressee", async () => {
    const a = await newUser(ctx, "ia");
    const b = await newUser(ctx, "ib");
    const stranger = await newUser(ctx, "is");
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "" });
    await approveFriend(ctx, b, applyId);
    const before = await lastEventId();
    expect(await approveFriend(ctx, b, applyId)).toEqual({ changed: false });
    expect(await eventsAfter(before)).toEqual([]);
    // Checked before the no-op: the legacy server answered 200 to anyone here.
    await expectError(approveFriend(ctx, stranger, applyId), "FORBIDDEN", "无权操作该申请");
    await expectError(approveFriend(ctx, a, applyId), "FORBIDDEN", "无权操作该申请");
  });

  it("approves a refused request and re-activates deleted rows", async () => {
    const a = await newUser(ctx, "xa");
    const b = await newUser(ctx, "xb");
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "" });
    await rejectFriend(ctx, b, applyId);
    await ctx.db.insert(contacts).values([
      { userId: a, contactId: b, contactType: 0, status: 4 },
      { userId: b, contactId: a, contactType: 0, status: 3 },
    ]);
    expect(await approveFriend(ctx, b, applyId)).toEqual({ changed: true });
    expect((await edges(a, b)).map((e) => e.status)).toEqual([0]);
    expect((await edges(b, a)).map((e) => e.status)).toEqual([0]);
  });

  it("answers my own pending request to the applicant as well", async () => {
    const a = await newUser(ctx, "ma");
    const b = await newUser(ctx, "mb");
    const fromA = await applyFriend(ctx, a, { targetId: b, message: "" });
    const fromB = await applyFriend(ctx, b, { targetId: a, message: "" });
    await approveFriend(ctx, b, fromA.applyId);
    expect((await applyRow(fromB.applyId))?.status).toBe(ApplyStatus.approved);
    expect(await listPendingApplies(ctx, a)).toEqual([]);
  });

  it("refuses unknown, blacklisted and join requests", async () => {
    const a = await newUser(ctx, "ea");
    const b = await newUser(ctx, "eb");
    await expectError(approveFriend(ctx, b, ""), "BAD_REQUEST", "参数错误");
    await expectError(approveFriend(ctx, b, "A00000000000"), "NOT_FOUND", "申请不存在");
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "" });
    await ctx.db.update(contactApplies).set({ status: ApplyStatus.blacklisted }).where(eq(contactApplies.uuid, applyId));
    await expectError(approveFriend(ctx, b, applyId), "FORBIDDEN", "该申请已被拉黑");
    await ctx.db.update(contactApplies).set({ status: 0, contactType: 1 }).where(eq(contactApplies.uuid, applyId));
    await expectError(approveFriend(ctx, b, applyId), "BAD_REQUEST", "不支持的申请类型");
    expect(await edges(a, b)).toEqual([]);
  });

  it("refuses while a block stands between the two", async () => {
    const a = await newUser(ctx, "ba");
    const b = await newUser(ctx, "bb");
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "" });
    await ctx.db.insert(contacts).values([
      { userId: b, contactId: a, contactType: 0, status: 1 },
      { userId: a, contactId: b, contactType: 0, status: 2 },
    ]);
    await expectError(approveFriend(ctx, b, applyId), "BAD_REQUEST", "您已将对方拉黑");
    await ctx.db.update(contacts).set({ status: 2 }).where(and(eq(contacts.userId, b), eq(contacts.contactId, a)));
    await expectError(approveFriend(ctx, b, applyId), "FORBIDDEN", "对方已将您拉黑");
    expect((await applyRow(applyId))?.status).toBe(ApplyStatus.pending);
  });

  it("writes both rows once when the same request is approved concurrently", async () => {
    const a = await newUser(ctx, "qa");
    const b = await newUser(ctx, "qb");
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "" });
    const before = await lastEventId();
    const results = await Promise.all(Array.from({ length: 8 }, () => approveFriend(ctx, b, applyId)));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(await edges(a, b)).toHaveLength(1);
    expect(await edges(b, a)).toHaveLength(1);
    expect((await eventsAfter(before)).map((e) => e.type)).toEqual(["request.decided"]);
  });
});

describe("rejectFriend", () => {
  it("refuses the request once, tells both, and is a no-op after", async () => {
    const a = await newUser(ctx, "na");
    const b = await newUser(ctx, "nb");
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "" });
    const before = await lastEventId();
    expect(await rejectFriend(ctx, b, applyId)).toEqual({ changed: true });
    expect(await rejectFriend(ctx, b, applyId)).toEqual({ changed: false });
    expect(await applyRow(applyId)).toMatchObject({ status: ApplyStatus.rejected, decidedBy: b });
    expect(await edges(a, b)).toEqual([]);
    const events = await eventsAfter(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "request.decided",
      userIds: [a, b],
      payload: { applyId, kind: "friend", applicantId: a, targetId: b, approved: false, by: b },
    });
  });

  it("refuses an approved, blacklisted, foreign or unknown request", async () => {
    const a = await newUser(ctx, "za");
    const b = await newUser(ctx, "zb");
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "" });
    await expectError(rejectFriend(ctx, a, applyId), "FORBIDDEN", "无权操作该申请");
    await expectError(rejectFriend(ctx, b, " "), "BAD_REQUEST", "参数错误");
    await expectError(rejectFriend(ctx, b, "A00000000001"), "NOT_FOUND", "申请不存在");
    await ctx.db.update(contactApplies).set({ status: ApplyStatus.blacklisted }).where(eq(contactApplies.uuid, applyId));
    await expectError(rejectFriend(ctx, b, applyId), "FORBIDDEN", "该申请已被拉黑");
    await ctx.db.update(contactApplies).set({ status: ApplyStatus.pending }).where(eq(contactApplies.uuid, applyId));
    await approveFriend(ctx, b, applyId);
    await expectError(rejectFriend(ctx, b, applyId), "BAD_REQUEST", "已通过，无法拒绝");
  });
});

describe("listFriends and friendship", () => {
  it("lists normal friends in row order with their profile, skipping deleted users", async () => {
    const me = await newUser(ctx, "lm");
    const f1 = await newUser(ctx, "l1");
    const f2 = await newUser(ctx, "l2");
    const gone = await newUser(ctx, "lg");
    for (const f of [f1, f2, gone]) {
      const { applyId } = await applyFriend(ctx, f, { targetId: me, message: "" });
      await approveFriend(ctx, me, applyId);
    }
    // A friend whose nickname is empty shows the username; a disabled friend is listed with status 1.
    await ctx.db.update(users).set({ nickname: "", status: 1 }).where(eq(users.uuid, f2));
    await ctx.db.delete(users).where(eq(users.uuid, gone));
    // Not a normal friend: deleted, so not listed.
    const other = await newUser(ctx, "lo");
    await ctx.db.insert(contacts).values({ userId: me, contactId: other, contactType: 0, status: 3 });

    const list = await listFriends(ctx, me);
    const [p1] = await ctx.db.select().from(users).where(eq(users.uuid, f1));
    const [p2] = await ctx.db.select().from(users).where(eq(users.uuid, f2));
    expect(list).toEqual([
      { userId: f1, name: p1!.nickname, username: p1!.username, nickname: p1!.nickname, avatar: p1!.avatar, status: 0 },
      { userId: f2, name: p2!.username, username: p2!.username, nickname: "", avatar: p2!.avatar, status: 1 },
    ]);
    expect(await listFriends(ctx, other)).toEqual([]);
    expect(await friendship(ctx.db, me, other)).toBe(3);
    expect(await friendship(ctx.db, other, me)).toBeUndefined();
  });
});
