import { ContactType, contacts, conversations, groups, sessions, users } from "@omnilink/db";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  applyToJoinGroup,
  approveJoinRequest,
  createGroup,
  createGroupInput,
  dismissGroup,
  getGroupInfo,
  inviteMembers,
  leaveGroup,
  listGroupMembers,
  listJoinedGroups,
  listOwnedGroups,
  listPendingJoinRequestsForOwner,
  loadGroup,
  rejectJoinRequest,
  removeMembers,
  setMemberMuted,
  transferOwnership,
  updateGroup,
  updateGroupInput,
} from "../src/groups/index.js";
import { eventsSince, memberCount, memberStatus, streamMark } from "./fixtures.js";
import { expectAppError, namedUsers, newUser, useTestContext } from "./helpers.js";

const t = useTestContext();

describe("createGroup", () => {
  it("makes the owner and the listed users members, with a conversation, sessions and one event", async () => {
    const { owner, a, b } = await namedUsers(t.ctx, "owner", "a", "b");
    const mark = await streamMark(t.ctx);
    const group = await createGroup(t.ctx, owner, { name: "  Team  ", notice: " hi ", memberIds: [a, " ", b, a, owner, ""] });
    expect(group.uuid).toMatch(/^G[0-9A-Za-z]{11}$/);
    expect(group).toMatchObject({ name: "Team", notice: "hi", ownerId: owner, memberCnt: 3, addMode: 0, status: 0 });
    expect(group.avatar).toMatch(/^https:/);
    expect(await memberCount(t.ctx, group.uuid)).toEqual({ cnt: 3, real: 3 });

    const [conv] = await t.ctx.db.select().from(conversations).where(eq(conversations.id, group.uuid));
    expect(conv).toMatchObject({ kind: 1, lastSeq: 0 });
    const sess = await t.ctx.db.select().from(sessions).where(eq(sessions.receiveId, group.uuid));
    expect(sess.map((s) => s.sendId).sort()).toEqual([owner, a, b].sort());
    expect(sess.every((s) => s.conversationId === group.uuid && s.readSeq === 0 && s.receiveName === "Team")).toBe(true);

    const events = await eventsSince(t.ctx, mark);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "group.created", groupId: group.uuid, userIds: [owner, a, b] });
    expect(events[0]?.payload).toEqual({ name: "Team", ownerId: owner, memberIds: [owner, a, b] });
  });

  it("allows a group of one and keeps add_mode when given", async () => {
    const owner = await newUser(t.ctx);
    const group = await createGroup(t.ctx, owner, { name: "solo", memberIds: [], addMode: 1 });
    expect(group).toMatchObject({ memberCnt: 1, addMode: 1, notice: "" });
    expect(await memberCount(t.ctx, group.uuid)).toEqual({ cnt: 1, real: 1 });
  });

  it("refuses unknown and disabled members and writes nothing", async () => {
    const owner = await newUser(t.ctx);
    const ok = await newUser(t.ctx);
    const disabled = await newUser(t.ctx);
    await t.ctx.db.update(users).set({ status: 1 }).where(eq(users.uuid, disabled));
    const before = await t.ctx.db.$count(groups, eq(groups.ownerId, owner));
    await expectAppError(createGroup(t.ctx, owner, { name: "x", memberIds: [ok, "Unobody000000"] }), "NOT_FOUND", "成员不存在");
    await expectAppError(createGroup(t.ctx, owner, { name: "x", memberIds: [ok, disabled] }), "FORBIDDEN", "成员状态异常");
    expect(await t.ctx.db.$count(groups, eq(groups.ownerId, owner))).toBe(before);
  });

  it("enforces the maximum group size", async () => {
    const owner = await newUser(t.ctx);
    const others = [await newUser(t.ctx), await newUser(t.ctx), await newUser(t.ctx)];
    t.ctx.limits.maxGroupMembers = 3;
    try {
      await expectAppError(createGroup(t.ctx, owner, { name: "big", memberIds: others }), "BAD_REQUEST", "群成员已达上限");
      const g = await createGroup(t.ctx, owner, { name: "fits", memberIds: others.slice(0, 2) });
      expect(g.memberCnt).toBe(3);
    } finally {
      t.ctx.limits.maxGroupMembers = 2000;
    }
  });

  it("validates the input with the schema", () => {
    expect(createGroupInput.safeParse({ name: "   ", memberIds: [] }).success).toBe(false);
    expect(createGroupInput.safeParse({ name: "x".repeat(21), memberIds: [] }).success).toBe(false);
    expect(createGroupInput.safeParse({ name: "ok", notice: "n".repeat(501), memberIds: [] }).success).toBe(false);
    expect(createGroupInput.safeParse({ name: "ok", memberIds: ["U".repeat(21)] }).success).toBe(false);
    expect(createGroupInput.safeParse({ name: "ok", memberIds: [], addMode: 2 }).success).toBe(false);
    expect(createGroupInput.parse({ name: " 名字 ", memberIds: [" U1 "] })).toEqual({ name: "名字", memberIds: ["U1"] });
  });
});

describe("group reads", () => {
  let owner: string, a: string, b: string, outsider: string, groupId: string;
  beforeAll(async () => {
    ({ owner, a, b } = await namedUsers(t.ctx, "owner", "a", "b"));
    outsider = await newUser(t.ctx, "out");
    groupId = (await createGroup(t.ctx, owner, { name: "reads", notice: "n", memberIds: [a, b] })).uuid;
  });

  it("getGroupInfo answers members and the owner, 404 for unknown groups, 403 for others (legacy-contract D5)", async () => {
    const info = await getGroupInfo(t.ctx, a, groupId);
    expect(Object.keys(info).sort()).toEqual(
      ["addMode", "avatar", "createdAt", "memberCnt", "muteAll", "name", "notice", "ownerId", "status", "updatedAt", "uuid"].sort(),
    );
    expect(info).toMatchObject({ uuid: groupId, name: "reads", notice: "n", ownerId: owner, memberCnt: 3 });
    expect((await getGroupInfo(t.ctx, owner, groupId)).uuid).toBe(groupId);
    await expectAppError(getGroupInfo(t.ctx, a, "Gnope0000000"), "NOT_FOUND", "群组不存在");
    await expectAppError(getGroupInfo(t.ctx, outsider, groupId), "FORBIDDEN", "非群成员");
    await expectAppError(listGroupMembers(t.ctx, outsider, groupId), "FORBIDDEN", "非群成员");
    await expectAppError(listGroupMembers(t.ctx, outsider, "Gnope0000000"), "NOT_FOUND", "群组不存在");
  });

  it("listGroupMembers lists active members, owner first, with role and muted", async () => {
    const g = await createGroup(t.ctx, a, { name: "order", memberIds: [b, owner] });
    await setMemberMuted(t.ctx, a, { groupId: g.uuid, userId: owner, muted: true });
    const members = await listGroupMembers(t.ctx, b, g.uuid);
    expect(members.map((m) => [m.userId, m.role, m.muted])).toEqual([
      [a, "owner", false],
      [b, "member", false],
      [owner, "member", true],
    ]);
    expect(Object.keys(members[0] ?? {}).sort()).toEqual(["avatar", "gender", "muted", "nickname", "role", "userId", "username"]);
    await leaveGroup(t.ctx, b, g.uuid);
    expect((await listGroupMembers(t.ctx, a, g.uuid)).map((m) => m.userId)).toEqual([a, owner]);
    await expectAppError(getGroupInfo(t.ctx, b, g.uuid), "FORBIDDEN", "非群成员");
  });

  it("listJoinedGroups and listOwnedGroups show normal groups only", async () => {
    const u = await newUser(t.ctx);
    const other = await newUser(t.ctx);
    const mine = await createGroup(t.ctx, u, { name: "mine", memberIds: [other] });
    const theirs = await createGroup(t.ctx, other, { name: "theirs", memberIds: [u] });
    const left = await createGroup(t.ctx, other, { name: "left", memberIds: [u] });
    const gone = await createGroup(t.ctx, u, { name: "gone", memberIds: [] });
    await leaveGroup(t.ctx, u, left.uuid);
    await dismissGroup(t.ctx, u, gone.uuid);
    const joined = await listJoinedGroups(t.ctx, u);
    expect(joined.map((g) => g.groupId).sort()).toEqual([mine.uuid, theirs.uuid].sort());
    expect(joined.find((g) => g.groupId === theirs.uuid)).toEqual({ groupId: theirs.uuid, name: "theirs", avatar: theirs.avatar, ownerId: other, memberCnt: 2 });
    expect((await listOwnedGroups(t.ctx, u)).map((g) => g.groupId)).toEqual([mine.uuid]);
    expect(await listJoinedGroups(t.ctx, await newUser(t.ctx))).toEqual([]);
  });
});

describe("updateGroup", () => {
  it("changes what the owner asks and announces only real changes", async () => {
    const { owner, a } = await namedUsers(t.ctx, "owner", "a", "b");
    const g = await createGroup(t.ctx, owner, { name: "before", notice: "old", memberIds: [a] });
    const mark = await streamMark(t.ctx);
    const updated = await updateGroup(t.ctx, owner, { groupId: g.uuid, name: " after ", notice: "old", addMode: 1 });
    expect(updated).toMatchObject({ name: "after", notice: "old", addMode: 1 });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(g.updatedAt.getTime());
    const events = await eventsSince(t.ctx, mark);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "group.updated", groupId: g.uuid, userIds: [], payload: { changes: { name: "after", addMode: 1 } } });

    const same = await updateGroup(t.ctx, owner, { groupId: g.uuid, name: "after" });
    expect(same.name).toBe("after");
    expect(await eventsSince(t.ctx, mark)).toHaveLength(1);

    await expectAppError(updateGroup(t.ctx, a, { groupId: g.uuid, name: "hijack" }), "FORBIDDEN", "只有群主可以修改群资料");
    await expectAppError(updateGroup(t.ctx, owner, { groupId: "Gnope0000000", name: "x" }), "NOT_FOUND", "群组不存在");
    expect(updateGroupInput.safeParse({ groupId: g.uuid, avatar: "" }).success).toBe(false);
  });
});

describe("leaveGroup", () => {
  it("checks in the legacy order and marks the membership left", async () => {
    const { owner, a, b } = await namedUsers(t.ctx, "owner", "a", "b");
    const outsider = await newUser(t.ctx);
    const g = await createGroup(t.ctx, owner, { name: "leave", memberIds: [a, b] });
    await expectAppError(leaveGroup(t.ctx, a, "Gnope0000000"), "NOT_FOUND", "群组不存在");
    await expectAppError(leaveGroup(t.ctx, owner, g.uuid), "FORBIDDEN", "群主不能退群，请先转让群主或解散群");
    await expectAppError(leaveGroup(t.ctx, outsider, g.uuid), "BAD_REQUEST", "非群成员");

    const mark = await streamMark(t.ctx);
    await leaveGroup(t.ctx, a, g.uuid);
    expect(await memberStatus(t.ctx, a, g.uuid)).toBe(6);
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 2, real: 2 });
    const events = await eventsSince(t.ctx, mark);
    expect(events.map((e) => [e.type, e.groupId, e.userIds, e.payload])).toEqual([["member.left", g.uuid, [a], { userId: a }]]);
    await expectAppError(leaveGroup(t.ctx, a, g.uuid), "BAD_REQUEST", "非群成员");

    // A muted member may leave too.
    await setMemberMuted(t.ctx, owner, { groupId: g.uuid, userId: b, muted: true });
    await leaveGroup(t.ctx, b, g.uuid);
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 1, real: 1 });
  });
});

describe("removeMembers", () => {
  it("lets the owner kick active members, skipping others", async () => {
    const { owner, a, b } = await namedUsers(t.ctx, "owner", "a", "b");
    const c = await newUser(t.ctx);
    const outsider = await newUser(t.ctx);
    const g = await createGroup(t.ctx, owner, { name: "kick", memberIds: [a, b, c] });
    await leaveGroup(t.ctx, c, g.uuid);
    await expectAppError(removeMembers(t.ctx, a, { groupId: g.uuid, memberIds: [b] }), "FORBIDDEN", "只有群主可以移除成员");
    await expectAppError(removeMembers(t.ctx, owner, { groupId: g.uuid, memberIds: [a, owner] }), "BAD_REQUEST", "不能移除群主");
    await expectAppError(removeMembers(t.ctx, owner, { groupId: "Gnope0000000", memberIds: [a] }), "NOT_FOUND", "群组不存在");

    const mark = await streamMark(t.ctx);
    const { removed } = await removeMembers(t.ctx, owner, { groupId: g.uuid, memberIds: [b, outsider, c, a, b] });
    expect(removed).toEqual([b, a]);
    expect([await memberStatus(t.ctx, a, g.uuid), await memberStatus(t.ctx, b, g.uuid), await memberStatus(t.ctx, c, g.uuid)]).toEqual([7, 7, 6]);
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 1, real: 1 });
    const events = await eventsSince(t.ctx, mark);
    expect(events.map((e) => [e.type, e.groupId, e.userIds, e.payload])).toEqual([["member.removed", g.uuid, [b, a], { userIds: [b, a], by: owner }]]);

    expect(await removeMembers(t.ctx, owner, { groupId: g.uuid, memberIds: [outsider] })).toEqual({ removed: [] });
    expect(await eventsSince(t.ctx, mark)).toHaveLength(1);
    // A kicked user is out: no reads, and may come back only through the owner.
    await expectAppError(getGroupInfo(t.ctx, a, g.uuid), "FORBIDDEN", "非群成员");
  });
});

describe("setMemberMuted", () => {
  it("mutes and unmutes active members; muted members still count", async () => {
    const { owner, a } = await namedUsers(t.ctx, "owner", "a", "b");
    const outsider = await newUser(t.ctx);
    const g = await createGroup(t.ctx, owner, { name: "mute", memberIds: [a] });
    const mark = await streamMark(t.ctx);
    expect(await setMemberMuted(t.ctx, owner, { groupId: g.uuid, userId: a, muted: true })).toEqual({ changed: true });
    expect(await memberStatus(t.ctx, a, g.uuid)).toBe(5);
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 2, real: 2 });
    expect(await setMemberMuted(t.ctx, owner, { groupId: g.uuid, userId: a, muted: true })).toEqual({ changed: false });
    expect(await setMemberMuted(t.ctx, owner, { groupId: g.uuid, userId: a, muted: false })).toEqual({ changed: true });
    expect(await memberStatus(t.ctx, a, g.uuid)).toBe(0);
    const events = await eventsSince(t.ctx, mark);
    expect(events.map((e) => [e.type, e.groupId, e.userIds, e.payload])).toEqual([
      ["member.muted", g.uuid, [a], { userId: a, by: owner }],
      ["member.unmuted", g.uuid, [a], { userId: a, by: owner }],
    ]);

    await expectAppError(setMemberMuted(t.ctx, a, { groupId: g.uuid, userId: owner, muted: true }), "FORBIDDEN", "只有群主可以禁言成员");
    await expectAppError(setMemberMuted(t.ctx, owner, { groupId: g.uuid, userId: owner, muted: true }), "BAD_REQUEST", "不能禁言群主");
    await expectAppError(setMemberMuted(t.ctx, owner, { groupId: g.uuid, userId: outsider, muted: true }), "BAD_REQUEST", "对方不是群成员");
    await expectAppError(setMemberMuted(t.ctx, owner, { groupId: "Gnope0000000", userId: a, muted: true }), "NOT_FOUND", "群组不存在");
  });
});

describe("transferOwnership", () => {
  it("hands the group to an active member and unmutes them", async () => {
    const { owner, a, b } = await namedUsers(t.ctx, "owner", "a", "b");
    const outsider = await newUser(t.ctx);
    const g = await createGroup(t.ctx, owner, { name: "transfer", memberIds: [a, b] });
    await setMemberMuted(t.ctx, owner, { groupId: g.uuid, userId: a, muted: true });
    await expectAppError(transferOwnership(t.ctx, b, { groupId: g.uuid, newOwnerId: b }), "FORBIDDEN", "只有群主可以转让群主");
    await expectAppError(transferOwnership(t.ctx, owner, { groupId: g.uuid, newOwnerId: owner }), "BAD_REQUEST", "不能转让给自己");
    await expectAppError(transferOwnership(t.ctx, owner, { groupId: g.uuid, newOwnerId: outsider }), "BAD_REQUEST", "对方不是群成员");
    await expectAppError(transferOwnership(t.ctx, owner, { groupId: "Gnope0000000", newOwnerId: a }), "NOT_FOUND", "群组不存在");

    const mark = await streamMark(t.ctx);
    await transferOwnership(t.ctx, owner, { groupId: g.uuid, newOwnerId: a });
    expect((await loadGroup(t.ctx.db, g.uuid))?.ownerId).toBe(a);
    expect(await memberStatus(t.ctx, a, g.uuid)).toBe(0);
    const events = await eventsSince(t.ctx, mark);
    expect(events.map((e) => [e.type, e.groupId, e.userIds, e.payload])).toEqual([["owner.transferred", g.uuid, [owner, a], { from: owner, to: a }]]);

    // The old owner is an ordinary member now and may leave; the new one may not.
    await expectAppError(leaveGroup(t.ctx, a, g.uuid), "FORBIDDEN", "群主不能退群，请先转让群主或解散群");
    await leaveGroup(t.ctx, owner, g.uuid);
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 2, real: 2 });
    expect((await listGroupMembers(t.ctx, b, g.uuid)).map((m) => [m.userId, m.role])).toEqual([
      [a, "owner"],
      [b, "member"],
    ]);
  });
});

describe("dismissGroup", () => {
  it("checks in the legacy order, ends every membership at once and tells the members", async () => {
    const { owner, a, b } = await namedUsers(t.ctx, "owner", "a", "b");
    const c = await newUser(t.ctx);
    const g = await createGroup(t.ctx, owner, { name: "dismiss", memberIds: [a, b, c] });
    await leaveGroup(t.ctx, c, g.uuid);
    await setMemberMuted(t.ctx, owner, { groupId: g.uuid, userId: b, muted: true });
    await expectAppError(dismissGroup(t.ctx, owner, "Gnope0000000"), "NOT_FOUND", "群组不存在");
    await expectAppError(dismissGroup(t.ctx, a, g.uuid), "FORBIDDEN", "非群主无法解散群聊");

    const mark = await streamMark(t.ctx);
    await dismissGroup(t.ctx, owner, g.uuid);
    const row = await loadGroup(t.ctx.db, g.uuid);
    expect(row).toMatchObject({ status: 2, memberCnt: 0 });
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 0, real: 0 });
    const statuses = await t.ctx.db
      .select({ status: contacts.status })
      .from(contacts)
      .where(and(eq(contacts.contactId, g.uuid), eq(contacts.contactType, ContactType.group)));
    expect(statuses.map((s) => s.status)).toEqual([8, 8, 8, 8]);
    const events = await eventsSince(t.ctx, mark);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "group.dismissed", groupId: g.uuid, payload: { by: owner } });
    expect([...(events[0]?.userIds ?? [])].sort()).toEqual([owner, a, b].sort());

    await expectAppError(dismissGroup(t.ctx, owner, g.uuid), "FORBIDDEN", "群组已解散，请勿重复操作");
    await expectAppError(dismissGroup(t.ctx, a, g.uuid), "FORBIDDEN", "非群主无法解散群聊");
  });

  it("refuses a disabled group with its own text", async () => {
    const owner = await newUser(t.ctx);
    const g = await createGroup(t.ctx, owner, { name: "disabled", memberIds: [] });
    await t.ctx.db.update(groups).set({ status: 1 }).where(eq(groups.uuid, g.uuid));
    await expectAppError(dismissGroup(t.ctx, owner, g.uuid), "FORBIDDEN", "群组状态异常，无法解散");
  });

  it("leaves a dismissed group refusing every operation", async () => {
    const { owner, a, b } = await namedUsers(t.ctx, "owner", "a", "b");
    const applicant = await newUser(t.ctx);
    const g = await createGroup(t.ctx, owner, { name: "dead", memberIds: [a, b] });
    const { applyId } = await applyToJoinGroup(t.ctx, applicant, { groupId: g.uuid, message: "" });
    await dismissGroup(t.ctx, owner, g.uuid);
    const mark = await streamMark(t.ctx);

    await expectAppError(inviteMembers(t.ctx, owner, { groupId: g.uuid, memberIds: [applicant] }), "FORBIDDEN", "群组已解散或状态异常，无法邀请成员");
    await expectAppError(applyToJoinGroup(t.ctx, applicant, { groupId: g.uuid, message: "" }), "FORBIDDEN", "群组状态异常");
    await expectAppError(approveJoinRequest(t.ctx, owner, applyId), "FORBIDDEN", "群组状态异常");
    await expectAppError(rejectJoinRequest(t.ctx, owner, applyId), "FORBIDDEN", "群组状态异常");
    await expectAppError(leaveGroup(t.ctx, a, g.uuid), "FORBIDDEN", "群组已解散或状态异常，无法退群");
    await expectAppError(removeMembers(t.ctx, owner, { groupId: g.uuid, memberIds: [a] }), "FORBIDDEN", "群组已解散或状态异常，无法移除成员");
    await expectAppError(setMemberMuted(t.ctx, owner, { groupId: g.uuid, userId: a, muted: true }), "FORBIDDEN", "群组已解散或状态异常");
    await expectAppError(transferOwnership(t.ctx, owner, { groupId: g.uuid, newOwnerId: a }), "FORBIDDEN", "群组已解散或状态异常");
    await expectAppError(updateGroup(t.ctx, owner, { groupId: g.uuid, name: "again" }), "FORBIDDEN", "群组已解散或状态异常");
    await expectAppError(getGroupInfo(t.ctx, a, g.uuid), "FORBIDDEN", "非群成员");
    await expectAppError(listGroupMembers(t.ctx, a, g.uuid), "FORBIDDEN", "非群成员");
    // The owner may still look at it (status 2), with nobody in it.
    expect((await getGroupInfo(t.ctx, owner, g.uuid)).status).toBe(2);
    expect(await listGroupMembers(t.ctx, owner, g.uuid)).toEqual([]);
    expect((await listJoinedGroups(t.ctx, a)).some((x) => x.groupId === g.uuid)).toBe(false);
    expect((await listOwnedGroups(t.ctx, owner)).some((x) => x.groupId === g.uuid)).toBe(false);
    expect(await listPendingJoinRequestsForOwner(t.ctx, owner)).toEqual([]);
    expect(await eventsSince(t.ctx, mark)).toEqual([]);
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 0, real: 0 });
  });
});
