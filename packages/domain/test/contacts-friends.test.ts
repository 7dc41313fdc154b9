import { ApplyStatus, contactApplies, contacts, conversations, sessions, users } from "@omnilink/db";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  applyFriend,
  approveFriend,
  friendship,
  listFriends,
  listPendingApplies,
  rejectFriend,
} from "../src/contacts/index.js";
import { privateConversationId } from "../src/ids.js";
import { applyRow, approvedFriends, eventsSince, streamMark } from "./fixtures.js";
import { expectAppError, newUser, useTestContext } from "./helpers.js";

const t = useTestContext();

const edges = (a: string, b: string) =>
  t.ctx.db
    .select({ userId: contacts.userId, contactId: contacts.contactId, status: contacts.status })
    .from(contacts)
    .where(and(eq(contacts.contactType, 0), eq(contacts.userId, a), eq(contacts.contactId, b)));

describe("applyFriend", () => {
  it("creates one pending request and tells the target on the stream", async () => {
    const a = await newUser(t.ctx, "ap");
    const b = await newUser(t.ctx, "ap");
    const before = await streamMark(t.ctx);
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "  hello  " });
    expect(applyId).toMatch(/^A[0-9A-Za-z]{11}$/);
    expect(await applyRow(t.ctx, applyId)).toMatchObject({ userId: a, contactId: b, contactType: 0, status: 0, message: "hello", invitedBy: null });
    const events = await eventsSince(t.ctx, before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "request.created",
      groupId: null,
      userIds: [b],
      payload: { applyId, kind: "friend", applicantId: a, targetId: b, message: "hello", invitedBy: null },
    });
  });

  it("refuses bad input, self, unknown and disabled users with the legacy texts", async () => {
    const a = await newUser(t.ctx, "ae");
    const disabled = await newUser(t.ctx, "ae");
    await t.ctx.db.update(users).set({ status: 1 }).where(eq(users.uuid, disabled));
    await expectAppError(applyFriend(t.ctx, a, { targetId: " ", message: "" }), "BAD_REQUEST", "参数错误");
    await expectAppError(applyFriend(t.ctx, a, { targetId: a, message: "" }), "BAD_REQUEST", "不能添加自己");
    await expectAppError(applyFriend(t.ctx, a, { targetId: "U00000000000", message: "" }), "NOT_FOUND", "用户不存在");
    await expectAppError(applyFriend(t.ctx, a, { targetId: disabled, message: "" }), "FORBIDDEN", "用户不可用");
    expect(await t.ctx.db.$count(contactApplies, eq(contactApplies.userId, a))).toBe(0);
  });

  it("refuses when already friends, or when either side has blocked the other", async () => {
    const [a, b] = await approvedFriends(t.ctx, "hi");
    await expectAppError(applyFriend(t.ctx, a, { targetId: b, message: "" }), "CONFLICT", "已是好友");
    // Blocks are written directly here; block.ts has its own tests.
    await t.ctx.db.update(contacts).set({ status: 1 }).where(and(eq(contacts.userId, a), eq(contacts.contactId, b)));
    await t.ctx.db.update(contacts).set({ status: 2 }).where(and(eq(contacts.userId, b), eq(contacts.contactId, a)));
    await expectAppError(applyFriend(t.ctx, a, { targetId: b, message: "" }), "BAD_REQUEST", "您已将对方拉黑");
    await expectAppError(applyFriend(t.ctx, b, { targetId: a, message: "" }), "FORBIDDEN", "对方已将您拉黑");
  });

  it("re-applying after a refusal resets the same row to pending with the new message", async () => {
    const a = await newUser(t.ctx, "ra");
    const b = await newUser(t.ctx, "rb");
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "first" });
    await rejectFriend(t.ctx, b, applyId);
    const rejected = await applyRow(t.ctx, applyId);
    expect(rejected).toMatchObject({ status: ApplyStatus.rejected, decidedBy: b });
    await new Promise((r) => setTimeout(r, 5));
    const again = await applyFriend(t.ctx, a, { targetId: b, message: "second" });
    expect(again.applyId).toBe(applyId);
    const row = await applyRow(t.ctx, applyId);
    expect(row).toMatchObject({ status: ApplyStatus.pending, message: "second", decidedBy: null, decidedAt: null });
    expect(row!.lastApplyAt.getTime()).toBeGreaterThan(rejected!.lastApplyAt.getTime());
    expect(await t.ctx.db.$count(contactApplies, and(eq(contactApplies.userId, a), eq(contactApplies.contactId, b)))).toBe(1);
  });

  it("leaves exactly one row when the same request is sent 20 times at once", async () => {
    const a = await newUser(t.ctx, "ca");
    const b = await newUser(t.ctx, "cb");
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => applyFriend(t.ctx, a, { targetId: b, message: `m${i}` })));
    expect(new Set(results.map((r) => r.applyId)).size).toBe(1);
    expect(await t.ctx.db.$count(contactApplies, and(eq(contactApplies.userId, a), eq(contactApplies.contactId, b)))).toBe(1);
    expect((await applyRow(t.ctx, results[0]!.applyId))?.status).toBe(0);
  });
});

describe("listPendingApplies (friend requests)", () => {
  it("lists the pending requests addressed to me, newest first, with the applicant's profile", async () => {
    const me = await newUser(t.ctx, "pm");
    const older = await newUser(t.ctx, "po");
    const newer = await newUser(t.ctx, "pn");
    const decided = await newUser(t.ctx, "pd");
    const first = await applyFriend(t.ctx, older, { targetId: me, message: "older" });
    await new Promise((r) => setTimeout(r, 5));
    const second = await applyFriend(t.ctx, newer, { targetId: me, message: "" });
    const refused = await applyFriend(t.ctx, decided, { targetId: me, message: "no" });
    await rejectFriend(t.ctx, me, refused.applyId);
    await applyFriend(t.ctx, me, { targetId: older, message: "mine, not to me" });

    const list = await listPendingApplies(t.ctx, me);
    expect(list.map((i) => i.applyId)).toEqual([second.applyId, first.applyId]);
    const [profile] = await t.ctx.db.select().from(users).where(eq(users.uuid, older));
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
    expect(await listPendingApplies(t.ctx, decided)).toEqual([]);
  });
});

describe("approveFriend", () => {
  it("makes both rows normal, creates the conversation but no session, and tells both", async () => {
    const a = await newUser(t.ctx, "pa");
    const b = await newUser(t.ctx, "pb");
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    const before = await streamMark(t.ctx);
    expect(await approveFriend(t.ctx, b, applyId)).toEqual({ changed: true });

    expect(await applyRow(t.ctx, applyId)).toMatchObject({ status: ApplyStatus.approved, decidedBy: b, decidedAt: expect.any(Date) as Date });
    expect(await edges(a, b)).toEqual([{ userId: a, contactId: b, status: 0 }]);
    expect(await edges(b, a)).toEqual([{ userId: b, contactId: a, status: 0 }]);
    expect(await t.ctx.db.$count(conversations, eq(conversations.id, privateConversationId(a, b)))).toBe(1);
    expect(await t.ctx.db.$count(sessions, eq(sessions.sendId, a))).toBe(0);
    expect(await t.ctx.db.$count(sessions, eq(sessions.sendId, b))).toBe(0);
    expect(await friendship(t.ctx.db, a, b)).toBe(0);
    expect(await listPendingApplies(t.ctx, b)).toEqual([]);

    const events = await eventsSince(t.ctx, before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "request.decided",
      groupId: null,
      userIds: [a, b],
      payload: { applyId, kind: "friend", applicantId: a, targetId: b, approved: true, by: b },
    });
  });

  it("is a no-op the second time, and only for the addressee", async () => {
    const a = await newUser(t.ctx, "ia");
    const b = await newUser(t.ctx, "ib");
    const stranger = await newUser(t.ctx, "is");
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    await approveFriend(t.ctx, b, applyId);
    const before = await streamMark(t.ctx);
    expect(await approveFriend(t.ctx, b, applyId)).toEqual({ changed: false });
    expect(await eventsSince(t.ctx, before)).toEqual([]);
    // Checked before the no-op: the legacy server answered 200 to anyone here.
    await expectAppError(approveFriend(t.ctx, stranger, applyId), "FORBIDDEN", "无权操作该申请");
    await expectAppError(approveFriend(t.ctx, a, applyId), "FORBIDDEN", "无权操作该申请");
  });

  it("approves a refused request and re-activates deleted rows", async () => {
    const a = await newUser(t.ctx, "xa");
    const b = await newUser(t.ctx, "xb");
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    await rejectFriend(t.ctx, b, applyId);
    await t.ctx.db.insert(contacts).values([
      { userId: a, contactId: b, contactType: 0, status: 4 },
      { userId: b, contactId: a, contactType: 0, status: 3 },
    ]);
    expect(await approveFriend(t.ctx, b, applyId)).toEqual({ changed: true });
    expect((await edges(a, b)).map((e) => e.status)).toEqual([0]);
    expect((await edges(b, a)).map((e) => e.status)).toEqual([0]);
  });

  it("answers my own pending request to the applicant as well", async () => {
    const a = await newUser(t.ctx, "ma");
    const b = await newUser(t.ctx, "mb");
    const fromA = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    const fromB = await applyFriend(t.ctx, b, { targetId: a, message: "" });
    await approveFriend(t.ctx, b, fromA.applyId);
    expect((await applyRow(t.ctx, fromB.applyId))?.status).toBe(ApplyStatus.approved);
    expect(await listPendingApplies(t.ctx, a)).toEqual([]);
  });

  it("refuses unknown, blacklisted and join requests", async () => {
    const a = await newUser(t.ctx, "ea");
    const b = await newUser(t.ctx, "eb");
    await expectAppError(approveFriend(t.ctx, b, ""), "BAD_REQUEST", "参数错误");
    await expectAppError(approveFriend(t.ctx, b, "A00000000000"), "NOT_FOUND", "申请不存在");
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    await t.ctx.db.update(contactApplies).set({ status: ApplyStatus.blacklisted }).where(eq(contactApplies.uuid, applyId));
    await expectAppError(approveFriend(t.ctx, b, applyId), "FORBIDDEN", "该申请已被拉黑");
    await t.ctx.db.update(contactApplies).set({ status: 0, contactType: 1 }).where(eq(contactApplies.uuid, applyId));
    await expectAppError(approveFriend(t.ctx, b, applyId), "BAD_REQUEST", "不支持的申请类型");
    expect(await edges(a, b)).toEqual([]);
  });

  it("refuses while a block stands between the two", async () => {
    const a = await newUser(t.ctx, "ba");
    const b = await newUser(t.ctx, "bb");
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    await t.ctx.db.insert(contacts).values([
      { userId: b, contactId: a, contactType: 0, status: 1 },
      { userId: a, contactId: b, contactType: 0, status: 2 },
    ]);
    await expectAppError(approveFriend(t.ctx, b, applyId), "BAD_REQUEST", "您已将对方拉黑");
    await t.ctx.db.update(contacts).set({ status: 2 }).where(and(eq(contacts.userId, b), eq(contacts.contactId, a)));
    await expectAppError(approveFriend(t.ctx, b, applyId), "FORBIDDEN", "对方已将您拉黑");
    expect((await applyRow(t.ctx, applyId))?.status).toBe(ApplyStatus.pending);
  });

  it("writes both rows once when the same request is approved concurrently", async () => {
    const a = await newUser(t.ctx, "qa");
    const b = await newUser(t.ctx, "qb");
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    const before = await streamMark(t.ctx);
    const results = await Promise.all(Array.from({ length: 8 }, () => approveFriend(t.ctx, b, applyId)));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(await edges(a, b)).toHaveLength(1);
    expect(await edges(b, a)).toHaveLength(1);
    expect((await eventsSince(t.ctx, before)).map((e) => e.type)).toEqual(["request.decided"]);
  });
});

describe("rejectFriend", () => {
  it("refuses the request once, tells both, and is a no-op after", async () => {
    const a = await newUser(t.ctx, "na");
    const b = await newUser(t.ctx, "nb");
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    const before = await streamMark(t.ctx);
    expect(await rejectFriend(t.ctx, b, applyId)).toEqual({ changed: true });
    expect(await rejectFriend(t.ctx, b, applyId)).toEqual({ changed: false });
    expect(await applyRow(t.ctx, applyId)).toMatchObject({ status: ApplyStatus.rejected, decidedBy: b });
    expect(await edges(a, b)).toEqual([]);
    const events = await eventsSince(t.ctx, before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "request.decided",
      userIds: [a, b],
      payload: { applyId, kind: "friend", applicantId: a, targetId: b, approved: false, by: b },
    });
  });

  it("refuses an approved, blacklisted, foreign or unknown request", async () => {
    const a = await newUser(t.ctx, "za");
    const b = await newUser(t.ctx, "zb");
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    await expectAppError(rejectFriend(t.ctx, a, applyId), "FORBIDDEN", "无权操作该申请");
    await expectAppError(rejectFriend(t.ctx, b, " "), "BAD_REQUEST", "参数错误");
    await expectAppError(rejectFriend(t.ctx, b, "A00000000001"), "NOT_FOUND", "申请不存在");
    await t.ctx.db.update(contactApplies).set({ status: ApplyStatus.blacklisted }).where(eq(contactApplies.uuid, applyId));
    await expectAppError(rejectFriend(t.ctx, b, applyId), "FORBIDDEN", "该申请已被拉黑");
    await t.ctx.db.update(contactApplies).set({ status: ApplyStatus.pending }).where(eq(contactApplies.uuid, applyId));
    await approveFriend(t.ctx, b, applyId);
    await expectAppError(rejectFriend(t.ctx, b, applyId), "BAD_REQUEST", "已通过，无法拒绝");
  });
});

describe("listFriends and friendship", () => {
  it("lists normal friends in row order with their profile, skipping deleted users", async () => {
    const me = await newUser(t.ctx, "lm");
    const f1 = await newUser(t.ctx, "l1");
    const f2 = await newUser(t.ctx, "l2");
    const gone = await newUser(t.ctx, "lg");
    for (const f of [f1, f2, gone]) {
      const { applyId } = await applyFriend(t.ctx, f, { targetId: me, message: "" });
      await approveFriend(t.ctx, me, applyId);
    }
    // A friend whose nickname is empty shows the username; a disabled friend is listed with status 1.
    await t.ctx.db.update(users).set({ nickname: "", status: 1 }).where(eq(users.uuid, f2));
    await t.ctx.db.delete(users).where(eq(users.uuid, gone));
    // Not a normal friend: deleted, so not listed.
    const other = await newUser(t.ctx, "lo");
    await t.ctx.db.insert(contacts).values({ userId: me, contactId: other, contactType: 0, status: 3 });

    const list = await listFriends(t.ctx, me);
    const [p1] = await t.ctx.db.select().from(users).where(eq(users.uuid, f1));
    const [p2] = await t.ctx.db.select().from(users).where(eq(users.uuid, f2));
    expect(list).toEqual([
      { userId: f1, name: p1!.nickname, username: p1!.username, nickname: p1!.nickname, avatar: p1!.avatar, status: 0 },
      { userId: f2, name: p2!.username, username: p2!.username, nickname: "", avatar: p2!.avatar, status: 1 },
    ]);
    expect(await listFriends(t.ctx, other)).toEqual([]);
    expect(await friendship(t.ctx.db, me, other)).toBe(3);
    expect(await friendship(t.ctx.db, other, me)).toBeUndefined();
  });
});
