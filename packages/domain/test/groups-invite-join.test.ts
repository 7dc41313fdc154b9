import { contactApplies, contacts, conversations, groups, sessions, users } from "@omnilink/db";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  applyToJoinGroup,
  applyToJoinInput,
  approveJoinRequest,
  createGroup,
  inviteMembers,
  inviteMembersInput,
  leaveGroup,
  listJoinRequests,
  listPendingJoinRequestsForOwner,
  rejectJoinRequest,
  removeMembers,
} from "../src/groups/index.js";
import { newId } from "../src/ids.js";
import { applyRow, eventsSince, memberCount, memberStatus, sessionRow, streamMark } from "./fixtures.js";
import { expectAppError, newUser, useTestContext } from "./helpers.js";

const t = useTestContext();

/** Pretends the group already has history, so new members' read positions can be checked (legacy-contract D7). */
async function setLastSeq(groupId: string, seq: number) {
  await t.ctx.db.update(conversations).set({ lastSeq: seq }).where(eq(conversations.id, groupId));
}

async function setup(addMode: 0 | 1 = 0) {
  const owner = await newUser(t.ctx, "owner");
  const member = await newUser(t.ctx, "member");
  const group = await createGroup(t.ctx, owner, { name: `mode${addMode}`, memberIds: [member], addMode });
  return { owner, member, groupId: group.uuid };
}

describe("inviteMembers (legacy-contract D4)", () => {
  it("add_mode 0: any active member's invite adds the users at once, skipping current members", async () => {
    const { owner, member, groupId } = await setup(0);
    const x = await newUser(t.ctx);
    const y = await newUser(t.ctx);
    await setLastSeq(groupId, 7);
    const mark = await streamMark(t.ctx);
    const result = await inviteMembers(t.ctx, member, { groupId, memberIds: [x, owner, " ", y, x, member] });
    expect(result).toEqual({ added: [x, y], requested: [] });
    expect([await memberStatus(t.ctx, x, groupId), await memberStatus(t.ctx, y, groupId)]).toEqual([0, 0]);
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 4, real: 4 });
    expect(await sessionRow(t.ctx, x, groupId)).toMatchObject({ conversationId: groupId, readSeq: 7, receiveName: "mode0" });
    expect(await eventsSince(t.ctx, mark)).toEqual([
      { type: "member.joined", groupId, userIds: [x, y], payload: { userIds: [x, y], by: member, via: "invite" } },
    ]);

    const again = await inviteMembers(t.ctx, member, { groupId, memberIds: [x, y] });
    expect(again).toEqual({ added: [], requested: [] });
    expect(await eventsSince(t.ctx, mark)).toHaveLength(1);
  });

  it("brings back users who left or were kicked, and re-shows their session", async () => {
    const { owner, member, groupId } = await setup(0);
    const kicked = await newUser(t.ctx);
    await inviteMembers(t.ctx, owner, { groupId, memberIds: [kicked] });
    await removeMembers(t.ctx, owner, { groupId, memberIds: [kicked] });
    await leaveGroup(t.ctx, member, groupId);
    await t.ctx.db.update(sessions).set({ hiddenSeq: 0 }).where(eq(sessions.receiveId, groupId));
    await setLastSeq(groupId, 3);
    const result = await inviteMembers(t.ctx, owner, { groupId, memberIds: [kicked, member] });
    expect(result.added).toEqual([kicked, member]);
    expect([await memberStatus(t.ctx, kicked, groupId), await memberStatus(t.ctx, member, groupId)]).toEqual([0, 0]);
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 3, real: 3 });
    expect(await sessionRow(t.ctx, member, groupId)).toMatchObject({ hiddenSeq: null, readSeq: 3 });
    expect(await t.ctx.db.$count(contacts, and(eq(contacts.contactId, groupId), eq(contacts.userId, member)))).toBe(1);
  });

  it("add_mode 1: the owner's invite adds directly", async () => {
    const { owner, groupId } = await setup(1);
    const x = await newUser(t.ctx);
    expect(await inviteMembers(t.ctx, owner, { groupId, memberIds: [x] })).toEqual({ added: [x], requested: [] });
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 3, real: 3 });
  });

  it("add_mode 1: a member's invite creates join requests for the owner instead", async () => {
    const { owner, member, groupId } = await setup(1);
    const x = await newUser(t.ctx);
    const y = await newUser(t.ctx);
    const mark = await streamMark(t.ctx);
    const result = await inviteMembers(t.ctx, member, { groupId, memberIds: [y, x, owner] });
    expect(result).toEqual({ added: [], requested: [y, x] });
    expect(await memberStatus(t.ctx, x, groupId)).toBeUndefined();
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 2, real: 2 });

    const pending = await listJoinRequests(t.ctx, owner, groupId);
    expect(pending.map((p) => [p.userId, p.invitedBy, p.message]).sort()).toEqual(
      [
        [x, member, "邀请加入群聊"],
        [y, member, "邀请加入群聊"],
      ].sort(),
    );
    const events = await eventsSince(t.ctx, mark);
    expect(events.map((e) => [e.type, e.groupId, e.userIds])).toEqual([
      ["request.created", null, [owner]],
      ["request.created", null, [owner]],
    ]);
    const byApplicant = new Map(pending.map((p) => [p.userId, p.applyId]));
    expect(events.map((e) => e.payload)).toEqual([
      { applyId: byApplicant.get(y), kind: "join", applicantId: y, targetId: groupId, message: "邀请加入群聊", invitedBy: member },
      { applyId: byApplicant.get(x), kind: "join", applicantId: x, targetId: groupId, message: "邀请加入群聊", invitedBy: member },
    ]);

    // Inviting again refreshes the same request rows; the owner's approval then adds them.
    await inviteMembers(t.ctx, member, { groupId, memberIds: [x] });
    expect(await t.ctx.db.$count(contactApplies, and(eq(contactApplies.contactId, groupId), eq(contactApplies.userId, x)))).toBe(1);
    const decision = await approveJoinRequest(t.ctx, owner, byApplicant.get(x) ?? "");
    expect(decision).toMatchObject({ changed: true, joined: true, applicantId: x, groupId });
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 3, real: 3 });
  });

  it("refuses unknown groups, outsiders (the legacy takeover hole) and unusable invitees", async () => {
    const { owner, member, groupId } = await setup(0);
    const outsider = await newUser(t.ctx);
    const disabled = await newUser(t.ctx);
    await t.ctx.db.update(users).set({ status: 1 }).where(eq(users.uuid, disabled));
    await expectAppError(inviteMembers(t.ctx, owner, { groupId: "Gnope0000000", memberIds: [outsider] }), "NOT_FOUND", "群组不存在");
    await expectAppError(inviteMembers(t.ctx, outsider, { groupId, memberIds: [outsider] }), "FORBIDDEN", "非群成员");
    await expectAppError(inviteMembers(t.ctx, member, { groupId, memberIds: [outsider, "Unobody000000"] }), "NOT_FOUND", "成员不存在");
    await expectAppError(inviteMembers(t.ctx, member, { groupId, memberIds: [disabled] }), "FORBIDDEN", "成员状态异常");
    await leaveGroup(t.ctx, member, groupId);
    await expectAppError(inviteMembers(t.ctx, member, { groupId, memberIds: [outsider] }), "FORBIDDEN", "非群成员");
    await t.ctx.db.update(groups).set({ status: 1 }).where(eq(groups.uuid, groupId));
    await expectAppError(inviteMembers(t.ctx, owner, { groupId, memberIds: [outsider] }), "FORBIDDEN", "群组已解散或状态异常，无法邀请成员");
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 1, real: 1 });
    expect(inviteMembersInput.safeParse({ groupId, memberIds: [] }).success).toBe(false);
  });

  it("refuses to grow past the maximum size and changes nothing", async () => {
    const { owner, groupId } = await setup(0);
    const x = await newUser(t.ctx);
    const y = await newUser(t.ctx);
    t.ctx.limits.maxGroupMembers = 3;
    try {
      await expectAppError(inviteMembers(t.ctx, owner, { groupId, memberIds: [x, y] }), "CONFLICT", "群成员已达上限");
      expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 2, real: 2 });
      expect(await memberStatus(t.ctx, x, groupId)).toBeUndefined();
      expect((await inviteMembers(t.ctx, owner, { groupId, memberIds: [x] })).added).toEqual([x]);
      await expectAppError(inviteMembers(t.ctx, owner, { groupId, memberIds: [y] }), "CONFLICT", "群成员已达上限");
    } finally {
      t.ctx.limits.maxGroupMembers = 2000;
    }
  });
});

describe("applyToJoinGroup", () => {
  it("creates one pending request, tells the owner only, and re-applying resets the same row", async () => {
    const { owner, groupId } = await setup(0);
    const applicant = await newUser(t.ctx);
    const mark = await streamMark(t.ctx);
    const { applyId } = await applyToJoinGroup(t.ctx, applicant, { groupId, message: "" });
    expect(applyId).toMatch(/^A[0-9A-Za-z]{11}$/);
    const first = await applyRow(t.ctx, applyId);
    expect(first).toMatchObject({ userId: applicant, contactId: groupId, contactType: 1, status: 0, message: "申请加入群聊", invitedBy: null });
    expect(await eventsSince(t.ctx, mark)).toEqual([
      {
        type: "request.created",
        groupId: null,
        userIds: [owner],
        payload: { applyId, kind: "join", applicantId: applicant, targetId: groupId, message: "申请加入群聊", invitedBy: null },
      },
    ]);
    // Still needs approval in an add_mode 0 group (legacy: applies ignore add_mode).
    expect(await memberStatus(t.ctx, applicant, groupId)).toBeUndefined();

    await rejectJoinRequest(t.ctx, owner, applyId);
    await new Promise((r) => setTimeout(r, 5));
    const again = await applyToJoinGroup(t.ctx, applicant, { groupId, message: " 让我进去 " });
    expect(again.applyId).toBe(applyId);
    const second = await applyRow(t.ctx, applyId);
    expect(second).toMatchObject({ status: 0, message: "让我进去", decidedBy: null, decidedAt: null });
    expect(second?.lastApplyAt.getTime()).toBeGreaterThan(first?.lastApplyAt.getTime() ?? Infinity);
    expect(await t.ctx.db.$count(contactApplies, eq(contactApplies.contactId, groupId))).toBe(1);
  });

  it("follows the legacy checks: 404, 403 abnormal group, 400 already a member", async () => {
    const { owner, member, groupId } = await setup(0);
    const applicant = await newUser(t.ctx);
    await expectAppError(applyToJoinGroup(t.ctx, applicant, { groupId: "Gnope0000000", message: "" }), "NOT_FOUND", "群组不存在");
    await expectAppError(applyToJoinGroup(t.ctx, member, { groupId, message: "" }), "CONFLICT", "已在群聊中");
    await expectAppError(applyToJoinGroup(t.ctx, owner, { groupId, message: "" }), "CONFLICT", "已在群聊中");
    await t.ctx.db.update(groups).set({ status: 1 }).where(eq(groups.uuid, groupId));
    await expectAppError(applyToJoinGroup(t.ctx, applicant, { groupId, message: "" }), "FORBIDDEN", "群组状态异常");
    expect(await t.ctx.db.$count(contactApplies, eq(contactApplies.contactId, groupId))).toBe(0);
    expect(applyToJoinInput.safeParse({ groupId, message: "m".repeat(101) }).success).toBe(false);
    expect(applyToJoinInput.parse({ groupId })).toEqual({ groupId, message: "" });
  });
});

describe("join request lists", () => {
  it("listJoinRequests: owner only, pending only, newest first, with the applicant's profile", async () => {
    const { owner, member, groupId } = await setup(0);
    const p1 = await newUser(t.ctx, "p1");
    const p2 = await newUser(t.ctx, "p2");
    const p3 = await newUser(t.ctx, "p3");
    const a1 = await applyToJoinGroup(t.ctx, p1, { groupId, message: "one" });
    await new Promise((r) => setTimeout(r, 5));
    const a2 = await applyToJoinGroup(t.ctx, p2, { groupId, message: "two" });
    const a3 = await applyToJoinGroup(t.ctx, p3, { groupId, message: "three" });
    await rejectJoinRequest(t.ctx, owner, a3.applyId);

    const list = await listJoinRequests(t.ctx, owner, groupId);
    expect(list.map((r) => r.applyId)).toEqual([a2.applyId, a1.applyId]);
    const [profile] = await t.ctx.db.select().from(users).where(eq(users.uuid, p2));
    expect(list[0]).toEqual({
      applyId: a2.applyId,
      userId: p2,
      username: profile?.username,
      nickname: profile?.nickname,
      avatar: profile?.avatar,
      message: "two",
      lastApplyAt: expect.any(Date) as Date,
      invitedBy: null,
    });
    await expectAppError(listJoinRequests(t.ctx, member, groupId), "FORBIDDEN", "只有群主可以审批入群申请");
    await expectAppError(listJoinRequests(t.ctx, owner, "Gnope0000000"), "NOT_FOUND", "群组不存在");
  });

  it("listPendingJoinRequestsForOwner: every normal group I own, newest first, with the group", async () => {
    const owner = await newUser(t.ctx, "boss");
    const g1 = await createGroup(t.ctx, owner, { name: "g1", memberIds: [] });
    const g2 = await createGroup(t.ctx, owner, { name: "g2", memberIds: [] });
    const g3 = await createGroup(t.ctx, owner, { name: "g3", memberIds: [] });
    const elsewhere = await setup(0);
    const p = await newUser(t.ctx);
    const q = await newUser(t.ctx);
    const r1 = await applyToJoinGroup(t.ctx, p, { groupId: g1.uuid, message: "" });
    await new Promise((r) => setTimeout(r, 5));
    const r2 = await applyToJoinGroup(t.ctx, q, { groupId: g2.uuid, message: "hi" });
    await applyToJoinGroup(t.ctx, q, { groupId: g3.uuid, message: "" });
    await applyToJoinGroup(t.ctx, p, { groupId: elsewhere.groupId, message: "" });
    await t.ctx.db.update(groups).set({ status: 1 }).where(eq(groups.uuid, g3.uuid));

    const list = await listPendingJoinRequestsForOwner(t.ctx, owner);
    expect(list.map((r) => [r.applyId, r.groupId, r.groupName, r.userId, r.message])).toEqual([
      [r2.applyId, g2.uuid, "g2", q, "hi"],
      [r1.applyId, g1.uuid, "g1", p, "申请加入群聊"],
    ]);
    expect(await listPendingJoinRequestsForOwner(t.ctx, p)).toEqual([]);
  });
});

describe("approveJoinRequest", () => {
  it("adds the applicant with a session and emits the decision and the join", async () => {
    const { owner, groupId } = await setup(0);
    const applicant = await newUser(t.ctx);
    const { applyId } = await applyToJoinGroup(t.ctx, applicant, { groupId, message: "" });
    await setLastSeq(groupId, 12);
    const mark = await streamMark(t.ctx);
    expect(await approveJoinRequest(t.ctx, owner, applyId, groupId)).toEqual({ changed: true, joined: true, applyId, groupId, applicantId: applicant });
    expect(await applyRow(t.ctx, applyId)).toMatchObject({ status: 1, decidedBy: owner, decidedAt: expect.any(Date) as Date });
    expect(await memberStatus(t.ctx, applicant, groupId)).toBe(0);
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 3, real: 3 });
    expect(await sessionRow(t.ctx, applicant, groupId)).toMatchObject({ readSeq: 12, conversationId: groupId });
    expect(await eventsSince(t.ctx, mark)).toEqual([
      {
        type: "request.decided",
        groupId: null,
        userIds: [applicant, owner],
        payload: { applyId, kind: "join", applicantId: applicant, targetId: groupId, approved: true, by: owner },
      },
      { type: "member.joined", groupId, userIds: [applicant], payload: { userIds: [applicant], by: owner, via: "approval" } },
    ]);

    // Idempotent for the owner, refused to anyone else (unlike the legacy server).
    expect(await approveJoinRequest(t.ctx, owner, applyId)).toMatchObject({ changed: false, joined: false });
    await expectAppError(approveJoinRequest(t.ctx, applicant, applyId), "FORBIDDEN", "只有群主可以审批入群申请");
    expect(await eventsSince(t.ctx, mark)).toHaveLength(2);
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 3, real: 3 });
  });

  it("refuses unknown ids, friend requests, blacklisted requests and non-owners", async () => {
    const { owner, member, groupId } = await setup(0);
    const applicant = await newUser(t.ctx);
    await expectAppError(approveJoinRequest(t.ctx, owner, "Anope0000000"), "NOT_FOUND", "申请不存在");
    const friendApply = newId("A");
    await t.ctx.db.insert(contactApplies).values({ uuid: friendApply, userId: applicant, contactId: owner, contactType: 0 });
    await expectAppError(approveJoinRequest(t.ctx, owner, friendApply), "NOT_FOUND", "申请不存在");
    await expectAppError(rejectJoinRequest(t.ctx, owner, friendApply), "NOT_FOUND", "申请不存在");

    const { applyId } = await applyToJoinGroup(t.ctx, applicant, { groupId, message: "" });
    await expectAppError(approveJoinRequest(t.ctx, member, applyId), "FORBIDDEN", "只有群主可以审批入群申请");
    // /group/approveJoin names the group too: a request of another group is not found there.
    const other = await createGroup(t.ctx, owner, { name: "other", memberIds: [] });
    await expectAppError(approveJoinRequest(t.ctx, owner, applyId, other.uuid), "NOT_FOUND", "申请不存在");
    await expectAppError(rejectJoinRequest(t.ctx, owner, applyId, other.uuid), "NOT_FOUND", "申请不存在");
    await t.ctx.db.update(contactApplies).set({ status: 3 }).where(eq(contactApplies.uuid, applyId));
    await expectAppError(approveJoinRequest(t.ctx, owner, applyId), "FORBIDDEN", "该申请已被拉黑");
    await expectAppError(rejectJoinRequest(t.ctx, owner, applyId), "FORBIDDEN", "该申请已被拉黑");
    expect(await memberStatus(t.ctx, applicant, groupId)).toBeUndefined();
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 2, real: 2 });
  });

  it("answers 404 when the group behind a request is gone", async () => {
    const applicant = await newUser(t.ctx);
    const applyId = newId("A");
    await t.ctx.db.insert(contactApplies).values({ uuid: applyId, userId: applicant, contactId: "Ggone0000000", contactType: 1 });
    await expectAppError(approveJoinRequest(t.ctx, applicant, applyId), "NOT_FOUND", "群组不存在");
    await expectAppError(rejectJoinRequest(t.ctx, applicant, applyId), "NOT_FOUND", "群组不存在");
  });

  it("can approve a rejected request, and re-admits a user who had left", async () => {
    const { owner, groupId } = await setup(0);
    const applicant = await newUser(t.ctx);
    const { applyId } = await applyToJoinGroup(t.ctx, applicant, { groupId, message: "" });
    await rejectJoinRequest(t.ctx, owner, applyId);
    expect((await approveJoinRequest(t.ctx, owner, applyId)).joined).toBe(true);
    await leaveGroup(t.ctx, applicant, groupId);
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 2, real: 2 });
    const again = await applyToJoinGroup(t.ctx, applicant, { groupId, message: "back" });
    expect(again.applyId).toBe(applyId);
    expect((await approveJoinRequest(t.ctx, owner, applyId)).joined).toBe(true);
    expect(await memberStatus(t.ctx, applicant, groupId)).toBe(0);
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 3, real: 3 });
  });

  it("does not count twice an applicant who was invited meanwhile", async () => {
    const { owner, groupId } = await setup(0);
    const applicant = await newUser(t.ctx);
    const { applyId } = await applyToJoinGroup(t.ctx, applicant, { groupId, message: "" });
    await inviteMembers(t.ctx, owner, { groupId, memberIds: [applicant] });
    // Nothing left to decide, so the lists no longer show it.
    expect(await listJoinRequests(t.ctx, owner, groupId)).toEqual([]);
    expect((await listPendingJoinRequestsForOwner(t.ctx, owner)).map((r) => r.applyId)).not.toContain(applyId);
    const mark = await streamMark(t.ctx);
    expect(await approveJoinRequest(t.ctx, owner, applyId)).toMatchObject({ changed: true, joined: false });
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 3, real: 3 });
    expect((await eventsSince(t.ctx, mark)).map((e) => e.type)).toEqual(["request.decided"]);
  });

  it("keeps the request pending when the group is full", async () => {
    const { owner, groupId } = await setup(0);
    const applicant = await newUser(t.ctx);
    const { applyId } = await applyToJoinGroup(t.ctx, applicant, { groupId, message: "" });
    t.ctx.limits.maxGroupMembers = 2;
    try {
      await expectAppError(approveJoinRequest(t.ctx, owner, applyId), "CONFLICT", "群成员已达上限");
    } finally {
      t.ctx.limits.maxGroupMembers = 2000;
    }
    expect((await applyRow(t.ctx, applyId))?.status).toBe(0);
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 2, real: 2 });
  });
});

describe("rejectJoinRequest", () => {
  it("rejects once, is idempotent, and cannot undo an approval", async () => {
    const { owner, member, groupId } = await setup(0);
    const applicant = await newUser(t.ctx);
    const { applyId } = await applyToJoinGroup(t.ctx, applicant, { groupId, message: "" });
    await expectAppError(rejectJoinRequest(t.ctx, member, applyId), "FORBIDDEN", "只有群主可以审批");
    await expectAppError(rejectJoinRequest(t.ctx, owner, "Anope0000000"), "NOT_FOUND", "申请不存在");
    const mark = await streamMark(t.ctx);
    expect(await rejectJoinRequest(t.ctx, owner, applyId)).toMatchObject({ changed: true, joined: false });
    expect(await applyRow(t.ctx, applyId)).toMatchObject({ status: 2, decidedBy: owner });
    expect(await eventsSince(t.ctx, mark)).toEqual([
      {
        type: "request.decided",
        groupId: null,
        userIds: [applicant, owner],
        payload: { applyId, kind: "join", applicantId: applicant, targetId: groupId, approved: false, by: owner },
      },
    ]);
    expect(await rejectJoinRequest(t.ctx, owner, applyId)).toMatchObject({ changed: false });
    expect(await eventsSince(t.ctx, mark)).toHaveLength(1);
    expect(await memberStatus(t.ctx, applicant, groupId)).toBeUndefined();

    await approveJoinRequest(t.ctx, owner, applyId);
    await expectAppError(rejectJoinRequest(t.ctx, owner, applyId), "BAD_REQUEST", "已通过，无法拒绝");
  });
});
