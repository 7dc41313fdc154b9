import { ApplyStatus, contactApplies, contacts, streamEvents } from "@omnilink/db";
import { and, asc, eq, gt } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyContact, approveApply, friendship, listPendingApplies, rejectApply } from "../src/contacts/index.js";
import type { DomainContext } from "../src/context.js";
import { AppError, type ErrorKind } from "../src/errors.js";
// The real groups module: join requests are its business, reached through these dispatchers.
import { createGroup } from "../src/groups/index.js";
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

async function lastEventId(): Promise<number> {
  const rows = await ctx.db.select({ id: streamEvents.id }).from(streamEvents);
  return Math.max(0, ...rows.map((r) => r.id));
}
const eventsAfter = (after: number) =>
  ctx.db
    .select({ type: streamEvents.type, groupId: streamEvents.groupId, userIds: streamEvents.userIds, payload: streamEvents.payload })
    .from(streamEvents)
    .where(gt(streamEvents.id, after))
    .orderBy(asc(streamEvents.id));

const membership = async (userId: string, groupId: string) => {
  const [row] = await ctx.db
    .select({ status: contacts.status })
    .from(contacts)
    .where(and(eq(contacts.userId, userId), eq(contacts.contactId, groupId), eq(contacts.contactType, 1)));
  return row?.status;
};
const applyStatus = async (applyId: string) => {
  const [row] = await ctx.db.select({ status: contactApplies.status }).from(contactApplies).where(eq(contactApplies.uuid, applyId));
  return row?.status;
};

async function newGroup(name = "g") {
  const owner = await newUser(ctx, "owner");
  const group = await createGroup(ctx, owner, { name, memberIds: [] });
  return { owner, groupId: group.uuid };
}

describe("applyContact", () => {
  it("sends a friend request for a user id and names the target to notify", async () => {
    const a = await newUser(ctx, "a");
    const b = await newUser(ctx, "b");
    const result = await applyContact(ctx, a, { contactId: b, message: "hi" });
    expect(result).toEqual({ applyId: expect.stringMatching(/^A/) as string, kind: "friend", targetId: b, notify: [b] });
    const [row] = await ctx.db.select().from(contactApplies).where(eq(contactApplies.uuid, result.applyId));
    expect(row).toMatchObject({ userId: a, contactId: b, contactType: 0, status: 0, message: "hi" });
  });

  it("sends a join request for a G id and names the group's owner to notify", async () => {
    const { owner, groupId } = await newGroup("加入我们");
    const applicant = await newUser(ctx, "j");
    const before = await lastEventId();
    const result = await applyContact(ctx, applicant, { contactId: groupId, message: "" });
    expect(result).toEqual({ applyId: expect.stringMatching(/^A/) as string, kind: "join", targetId: groupId, notify: [owner] });
    const [row] = await ctx.db.select().from(contactApplies).where(eq(contactApplies.uuid, result.applyId));
    expect(row).toMatchObject({ userId: applicant, contactId: groupId, contactType: 1, status: 0 });
    const events = await eventsAfter(before);
    expect(events.map((e) => [e.type, e.userIds])).toEqual([["request.created", [owner]]]);
    expect(events[0]?.payload).toMatchObject({ applyId: result.applyId, kind: "join", applicantId: applicant, targetId: groupId });
  });

  it("refuses empty ids and self before dispatching, and passes the group module's refusals on", async () => {
    const a = await newUser(ctx, "e");
    const { owner, groupId } = await newGroup();
    await expectError(applyContact(ctx, a, { contactId: "", message: "" }), "BAD_REQUEST", "参数错误");
    await expectError(applyContact(ctx, a, { contactId: "  ", message: "" }), "BAD_REQUEST", "参数错误");
    await expectError(applyContact(ctx, a, { contactId: a, message: "" }), "BAD_REQUEST", "不能添加自己");
    await expectError(applyContact(ctx, a, { contactId: "G00000000000", message: "" }), "NOT_FOUND", "群组不存在");
    await expectError(applyContact(ctx, owner, { contactId: groupId, message: "" }), "CONFLICT", "已在群聊中");
    await expectError(applyContact(ctx, a, { contactId: "U00000000000", message: "" }), "NOT_FOUND", "用户不存在");
  });
});

describe("listPendingApplies with join requests", () => {
  it("lists friend requests to me first, then join requests for groups I own", async () => {
    const { owner, groupId } = await newGroup("书友");
    const friendApplicant = await newUser(ctx, "fa");
    const joiner = await newUser(ctx, "jn");
    const join = await applyContact(ctx, joiner, { contactId: groupId, message: "让我进去" });
    const friend = await applyContact(ctx, friendApplicant, { contactId: owner, message: "" });

    const list = await listPendingApplies(ctx, owner);
    expect(list.map((i) => [i.kind, i.applyId])).toEqual([
      ["friend", friend.applyId],
      ["join", join.applyId],
    ]);
    expect(list[1]).toMatchObject({
      kind: "join",
      userId: joiner,
      message: "让我进去",
      status: 0,
      groupId,
      groupName: "书友",
      invitedBy: null,
      lastApplyAt: expect.any(Date) as Date,
    });
    expect(list[0]).toMatchObject({ kind: "friend", userId: friendApplicant, groupId: null, groupName: null });
    // The applicant sees none of it.
    expect(await listPendingApplies(ctx, joiner)).toEqual([]);
  });
});

describe("approveApply / rejectApply", () => {
  it("approves a join request through the groups module", async () => {
    const { owner, groupId } = await newGroup();
    const joiner = await newUser(ctx, "aj");
    const { applyId } = await applyContact(ctx, joiner, { contactId: groupId, message: "" });
    const outsider = await newUser(ctx, "ao");
    await expectError(approveApply(ctx, outsider, applyId), "FORBIDDEN", "只有群主可以审批入群申请");
    expect(await approveApply(ctx, owner, applyId)).toMatchObject({ changed: true });
    expect(await applyStatus(applyId)).toBe(ApplyStatus.approved);
    expect(await membership(joiner, groupId)).toBe(0);
    expect(await approveApply(ctx, owner, applyId)).toMatchObject({ changed: false });
  });

  it("rejects a join request through the groups module", async () => {
    const { owner, groupId } = await newGroup();
    const joiner = await newUser(ctx, "rj");
    const { applyId } = await applyContact(ctx, joiner, { contactId: groupId, message: "" });
    await expectError(rejectApply(ctx, joiner, applyId), "FORBIDDEN", "只有群主可以审批");
    expect(await rejectApply(ctx, owner, applyId)).toMatchObject({ changed: true });
    expect(await applyStatus(applyId)).toBe(ApplyStatus.rejected);
    expect(await membership(joiner, groupId)).toBeUndefined();
  });

  it("approves and rejects friend requests through the contacts module", async () => {
    const a = await newUser(ctx, "fa");
    const b = await newUser(ctx, "fb");
    const c = await newUser(ctx, "fc");
    const ab = await applyContact(ctx, a, { contactId: b, message: "" });
    const cb = await applyContact(ctx, c, { contactId: b, message: "" });
    await expectError(approveApply(ctx, a, ab.applyId), "FORBIDDEN", "无权操作该申请");
    expect(await approveApply(ctx, b, ab.applyId)).toEqual({ changed: true });
    expect([await friendship(ctx.db, a, b), await friendship(ctx.db, b, a)]).toEqual([0, 0]);
    expect(await rejectApply(ctx, b, cb.applyId)).toEqual({ changed: true });
    expect(await applyStatus(cb.applyId)).toBe(ApplyStatus.rejected);
    await expectError(rejectApply(ctx, b, ab.applyId), "BAD_REQUEST", "已通过，无法拒绝");
  });

  it("refuses unknown and empty apply ids", async () => {
    const a = await newUser(ctx, "u");
    await expectError(approveApply(ctx, a, "A00000000000"), "NOT_FOUND", "申请不存在");
    await expectError(rejectApply(ctx, a, "A00000000000"), "NOT_FOUND", "申请不存在");
    await expectError(approveApply(ctx, a, ""), "BAD_REQUEST", "参数错误");
    await expectError(rejectApply(ctx, a, " "), "BAD_REQUEST", "参数错误");
  });
});
