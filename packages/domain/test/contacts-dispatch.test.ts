import { ApplyStatus, contactApplies } from "@omnilink/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { applyContact, approveApply, friendship, listPendingApplies, rejectApply } from "../src/contacts/index.js";
// The real groups module: join requests are its business, reached through these dispatchers.
import { createGroup } from "../src/groups/index.js";
import { applyRow, eventsSince, memberStatus, streamMark } from "./fixtures.js";
import { expectAppError, newUser, useTestContext } from "./helpers.js";

const t = useTestContext();

async function newGroup(name = "g") {
  const owner = await newUser(t.ctx, "owner");
  const group = await createGroup(t.ctx, owner, { name, memberIds: [] });
  return { owner, groupId: group.uuid };
}

describe("applyContact", () => {
  it("sends a friend request for a user id and names the target to notify", async () => {
    const a = await newUser(t.ctx, "a");
    const b = await newUser(t.ctx, "b");
    const result = await applyContact(t.ctx, a, { contactId: b, message: "hi" });
    expect(result).toEqual({ applyId: expect.stringMatching(/^A/) as string, kind: "friend", targetId: b, notify: [b] });
    const [row] = await t.ctx.db.select().from(contactApplies).where(eq(contactApplies.uuid, result.applyId));
    expect(row).toMatchObject({ userId: a, contactId: b, contactType: 0, status: 0, message: "hi" });
  });

  it("sends a join request for a G id and names the group's owner to notify", async () => {
    const { owner, groupId } = await newGroup("加入我们");
    const applicant = await newUser(t.ctx, "j");
    const before = await streamMark(t.ctx);
    const result = await applyContact(t.ctx, applicant, { contactId: groupId, message: "" });
    expect(result).toEqual({ applyId: expect.stringMatching(/^A/) as string, kind: "join", targetId: groupId, notify: [owner] });
    const [row] = await t.ctx.db.select().from(contactApplies).where(eq(contactApplies.uuid, result.applyId));
    expect(row).toMatchObject({ userId: applicant, contactId: groupId, contactType: 1, status: 0 });
    const events = await eventsSince(t.ctx, before);
    expect(events.map((e) => [e.type, e.userIds])).toEqual([["request.created", [owner]]]);
    expect(events[0]?.payload).toMatchObject({ applyId: result.applyId, kind: "join", applicantId: applicant, targetId: groupId });
  });

  it("refuses empty ids and self before dispatching, and passes the group module's refusals on", async () => {
    const a = await newUser(t.ctx, "e");
    const { owner, groupId } = await newGroup();
    await expectAppError(applyContact(t.ctx, a, { contactId: "", message: "" }), "BAD_REQUEST", "参数错误");
    await expectAppError(applyContact(t.ctx, a, { contactId: "  ", message: "" }), "BAD_REQUEST", "参数错误");
    await expectAppError(applyContact(t.ctx, a, { contactId: a, message: "" }), "BAD_REQUEST", "不能添加自己");
    await expectAppError(applyContact(t.ctx, a, { contactId: "G00000000000", message: "" }), "NOT_FOUND", "群组不存在");
    await expectAppError(applyContact(t.ctx, owner, { contactId: groupId, message: "" }), "CONFLICT", "已在群聊中");
    await expectAppError(applyContact(t.ctx, a, { contactId: "U00000000000", message: "" }), "NOT_FOUND", "用户不存在");
  });
});

describe("listPendingApplies with join requests", () => {
  it("lists friend requests to me first, then join requests for groups I own", async () => {
    const { owner, groupId } = await newGroup("书友");
    const friendApplicant = await newUser(t.ctx, "fa");
    const joiner = await newUser(t.ctx, "jn");
    const join = await applyContact(t.ctx, joiner, { contactId: groupId, message: "让我进去" });
    const friend = await applyContact(t.ctx, friendApplicant, { contactId: owner, message: "" });

    const list = await listPendingApplies(t.ctx, owner);
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
    expect(await listPendingApplies(t.ctx, joiner)).toEqual([]);
  });
});

describe("approveApply / rejectApply", () => {
  it("approves a join request through the groups module", async () => {
    const { owner, groupId } = await newGroup();
    const joiner = await newUser(t.ctx, "aj");
    const { applyId } = await applyContact(t.ctx, joiner, { contactId: groupId, message: "" });
    const outsider = await newUser(t.ctx, "ao");
    await expectAppError(approveApply(t.ctx, outsider, applyId), "FORBIDDEN", "只有群主可以审批入群申请");
    expect(await approveApply(t.ctx, owner, applyId)).toMatchObject({ changed: true });
    expect((await applyRow(t.ctx, applyId))?.status).toBe(ApplyStatus.approved);
    expect(await memberStatus(t.ctx, joiner, groupId)).toBe(0);
    expect(await approveApply(t.ctx, owner, applyId)).toMatchObject({ changed: false });
  });

  it("rejects a join request through the groups module", async () => {
    const { owner, groupId } = await newGroup();
    const joiner = await newUser(t.ctx, "rj");
    const { applyId } = await applyContact(t.ctx, joiner, { contactId: groupId, message: "" });
    await expectAppError(rejectApply(t.ctx, joiner, applyId), "FORBIDDEN", "只有群主可以审批");
    expect(await rejectApply(t.ctx, owner, applyId)).toMatchObject({ changed: true });
    expect((await applyRow(t.ctx, applyId))?.status).toBe(ApplyStatus.rejected);
    expect(await memberStatus(t.ctx, joiner, groupId)).toBeUndefined();
  });

  it("approves and rejects friend requests through the contacts module", async () => {
    const a = await newUser(t.ctx, "fa");
    const b = await newUser(t.ctx, "fb");
    const c = await newUser(t.ctx, "fc");
    const ab = await applyContact(t.ctx, a, { contactId: b, message: "" });
    const cb = await applyContact(t.ctx, c, { contactId: b, message: "" });
    await expectAppError(approveApply(t.ctx, a, ab.applyId), "FORBIDDEN", "无权操作该申请");
    expect(await approveApply(t.ctx, b, ab.applyId)).toEqual({ changed: true });
    expect([await friendship(t.ctx.db, a, b), await friendship(t.ctx.db, b, a)]).toEqual([0, 0]);
    expect(await rejectApply(t.ctx, b, cb.applyId)).toEqual({ changed: true });
    expect((await applyRow(t.ctx, cb.applyId))?.status).toBe(ApplyStatus.rejected);
    await expectAppError(rejectApply(t.ctx, b, ab.applyId), "BAD_REQUEST", "已通过，无法拒绝");
  });

  it("refuses unknown and empty apply ids", async () => {
    const a = await newUser(t.ctx, "u");
    await expectAppError(approveApply(t.ctx, a, "A00000000000"), "NOT_FOUND", "申请不存在");
    await expectAppError(rejectApply(t.ctx, a, "A00000000000"), "NOT_FOUND", "申请不存在");
    await expectAppError(approveApply(t.ctx, a, ""), "BAD_REQUEST", "参数错误");
    await expectAppError(rejectApply(t.ctx, a, " "), "BAD_REQUEST", "参数错误");
  });
});
