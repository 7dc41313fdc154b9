import { ContactType, contacts, conversations, groups, sessions, streamEvents, users } from "@omnilink/db";
import { and, asc, eq, gt, inArray, max } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DomainContext } from "../src/context.js";
import { AppError, type ErrorKind } from "../src/errors.js";
import {
  applyToJoinGroup,
  approveJoinRequest,
  createGroup,
  createGroupInput,
  dismissGroup,
  getGroupInfo,
  getMembership,
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

async function refused(p: Promise<unknown>, kind: ErrorKind, message: string): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect([(error as AppError).kind, (error as AppError).message]).toEqual([kind, message]);
}

/** member_cnt and the real number of active membership rows, which must always agree. */
async function counts(groupId: string): Promise<{ cnt: number | undefined; real: number }> {
  const [g] = await ctx.db.select({ cnt: groups.memberCnt }).from(groups).where(eq(groups.uuid, groupId));
  const real = await ctx.db.$count(
    contacts,
    and(eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group), inArray(contacts.status, [0, 5])),
  );
  return { cnt: g?.cnt, real };
}

async function expectCount(groupId: string, n: number): Promise<void> {
  expect(await counts(groupId)).toEqual({ cnt: n, real: n });
}

async function streamMark(): Promise<number> {
  const [row] = await ctx.db.select({ id: max(streamEvents.id) }).from(streamEvents);
  return Number(row?.id ?? 0);
}

async function eventsSince(mark: number) {
  return ctx.db.select().from(streamEvents).where(gt(streamEvents.id, mark)).orderBy(asc(streamEvents.id));
}

async function users3() {
  return { owner: await newUser(ctx, "owner"), a: await newUser(ctx, "a"), b: await newUser(ctx, "b") };
}

async function statusOf(userId: string, groupId: string) {
  return (await getMembership(ctx.db, userId, groupId))?.status;
}

describe("createGroup", () => {
  it("makes the owner and the listed users members, with a conversation, sessions and one event", async () => {
    const { owner, a, b } = await users3();
    const mark = await streamMark();
    const group = await createGroup(ctx, owner, { name: "  Team  ", notice: " hi ", memberIds: [a, " ", b, a, owner, ""] });
    expect(group.uuid).toMatch(/^G[0-9A-Za-z]{11}$/);
    expect(group).toMatchObject({ name: "Team", notice: "hi", ownerId: owner, memberCnt: 3, addMode: 0, status: 0 });
    expect(group.avatar).toMatch(/^https:/);
    await expectCount(group.uuid, 3);

    const [conv] = await ctx.db.select().from(conversations).where(eq(conversations.id, group.uuid));
    expect(conv).toMatchObject({ kind: 1, lastSeq: 0 });
    const sess = await ctx.db.select().from(sessions).where(eq(sessions.receiveId, group.uuid));
    expect(sess.map((s) => s.sendId).sort()).toEqual([owner, a, b].sort());
    expect(sess.every((s) => s.conversationId === group.uuid && s.readSeq === 0 && s.receiveName === "Team")).toBe(true);

    const events = await eventsSince(mark);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "group.created", groupId: group.uuid, userIds: [owner, a, b] });
    expect(events[0]?.payload).toEqual({ name: "Team", ownerId: owner, memberIds: [owner, a, b] });
  });

  it("allows a group of one and keeps add_mode when given", async () => {
    const owner = await newUser(ctx);
    const group = await createGroup(ctx, owner, { name: "solo", memberIds: [], addMode: 1 });
    expect(group).toMatchObject({ memberCnt: 1, addMode: 1, notice: "" });
    await expectCount(group.uuid, 1);
  });

  it("refuses unknown and disabled members and writes nothing", async () => {
    const owner = await newUser(ctx);
    const ok = await newUser(ctx);
    const disabled = await newUser(ctx);
    await ctx.db.update(users).set({ status: 1 }).where(eq(users.uuid, disabled));
    const before = await ctx.db.$count(groups, eq(groups.ownerId, owner));
    await refused(createGroup(ctx, owner, { name: "x", memberIds: [ok, "Unobody000000"] }), "NOT_FOUND", "成员不存在");
    await refused(createGroup(ctx, owner, { name: "x", memberIds: [ok, disabled] }), "FORBIDDEN", "成员状态异常");
    expect(await ctx.db.$count(groups, eq(groups.ownerId, owner))).toBe(before);
  });

  it("enforces the maximum group size", async () => {
    const owner = await newUser(ctx);
    const others = [await newUser(ctx), await newUser(ctx), await newUser(ctx)];
    ctx.limits.maxGroupMembers = 3;
    try {
      await refused(createGroup(ctx, owner, { name: "big", memberIds: others }), "BAD_REQUEST", "群成员已达上限");
      const g = await createGroup(ctx, owner, { name: "fits", memberIds: others.slice(0, 2) });
      expect(g.memberCnt).toBe(3);
    } finally {
      ctx.limits.maxGroupMembers = 2000;
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
    ({ owner, a, b } = await users3());
    outsider = await newUser(ctx, "out");
    groupId = (await createGroup(ctx, owner, { name: "reads", notice: "n", memberIds: [a, b] })).uuid;
  });

  it("getGroupInfo answers members and the owner, 404 for unknown groups, 403 for others (D5)", async () => {
    const info = await getGroupInfo(ctx, a, groupId);
    expect(Object.keys(info).sort()).toEqual(
      ["addMode", "avatar", "createdAt", "memberCnt", "name", "notice", "ownerId", "status", "updatedAt", "uuid"].sort(),
    );
    expect(info).toMatchObject({ uuid: groupId, name: "reads", notice: "n", ownerId: owner, memberCnt: 3 });
    expect((await getGroupInfo(ctx, owner, groupId)).uuid).toBe(groupId);
    await refused(getGroupInfo(ctx, a, "Gnope0000000"), "NOT_FOUND", "群组不存在");
    await refused(getGroupInfo(ctx, outsider, groupId), "FORBIDDEN", "非群成员");
    await refused(listGroupMembers(ctx, outsider, groupId), "FORBIDDEN", "非群成员");
    await refused(listGroupMembers(ctx, outsider, "Gnope0000000"), "NOT_FOUND", "群组不存在");
  });

  it("listGroupMembers lists active members, owner first, with role and muted", async () => {
    const g = await createGroup(ctx, a, { name: "order", memberIds: [b, owner] });
    await setMemberMuted(ctx, a, { groupId: g.uuid, userId: owner, muted: true });
    const members = await listGroupMembers(ctx, b, g.uuid);
    expect(members.map((m) => [m.userId, m.role, m.muted])).toEqual([
      [a, 1, false],
      [b, 0, false],
      [owner, 0, true],
    ]);
    expect(Object.keys(members[0] ?? {}).sort()).toEqual(["avatar", "gender", "muted", "nickname", "role", "userId", "username"]);
    await leaveGroup(ctx, b, g.uuid);
    expect((await listGroupMembers(ctx, a, g.uuid)).map((m) => m.userId)).toEqual([a, owner]);
    await refused(getGroupInfo(ctx, b, g.uuid), "FORBIDDEN", "非群成员");
  });

  it("listJoinedGroups and listOwnedGroups show normal groups only", async () => {
    const u = await newUser(ctx);
    const other = await newUser(ctx);
    const mine = await createGroup(ctx, u, { name: "mine", memberIds: [other] });
    const theirs = await createGroup(ctx, other, { name: "theirs", memberIds: [u] });
    const left = await createGroup(ctx, other, { name: "left", memberIds: [u] });
    const gone = await createGroup(ctx, u, { name: "gone", memberIds: [] });
    await leaveGroup(ctx, u, left.uuid);
    await dismissGroup(ctx, u, gone.uuid);
    const joined = await listJoinedGroups(ctx, u);
    expect(joined.map((g) => g.groupId).sort()).toEqual([mine.uuid, theirs.uuid].sort());
    expect(joined.find((g) => g.groupId === theirs.uuid)).toEqual({ groupId: theirs.uuid, name: "theirs", avatar: theirs.avatar, ownerId: other, memberCnt: 2 });
    expect((await listOwnedGroups(ctx, u)).map((g) => g.groupId)).toEqual([mine.uuid]);
    expect(await listJoinedGroups(ctx, await newUser(ctx))).toEqual([]);
  });
});

describe("updateGroup", () => {
  it("changes what the owner asks and announces only real changes", async () => {
    const { owner, a } = await users3();
    const g = await createGroup(ctx, owner, { name: "before", notice: "old", memberIds: [a] });
    const mark = await streamMark();
    const updated = await updateGroup(ctx, owner, { groupId: g.uuid, name: " after ", notice: "old", addMode: 1 });
    expect(updated).toMatchObject({ name: "after", notice: "old", addMode: 1 });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(g.updatedAt.getTime());
    const events = await eventsSince(mark);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "group.updated", groupId: g.uuid, userIds: [], payload: { changes: { name: "after", addMode: 1 } } });

    const same = await updateGroup(ctx, owner, { groupId: g.uuid, name: "after" });
    expect(same.name).toBe("after");
    expect(await eventsSince(mark)).toHaveLength(1);

    await refused(updateGroup(ctx, a, { groupId: g.uuid, name: "hijack" }), "FORBIDDEN", "只有群主可以修改群资料");
    await refused(updateGroup(ctx, owner, { groupId: "Gnope0000000", name: "x" }), "NOT_FOUND", "群组不存在");
    expect(updateGroupInput.safeParse({ groupId: g.uuid, avatar: "" }).success).toBe(false);
  });
});

describe("leaveGroup", () => {
  it("checks in the legacy order and marks the membership left", async () => {
    const { owner, a, b } = await users3();
    const outsider = await newUser(ctx);
    const g = await createGroup(ctx, owner, { name: "leave", memberIds: [a, b] });
    await refused(leaveGroup(ctx, a, "Gnope0000000"), "NOT_FOUND", "群组不存在");
    await refused(leaveGroup(ctx, owner, g.uuid), "FORBIDDEN", "群主不能退群，请先转让群主或解散群");
    await refused(leaveGroup(ctx, outsider, g.uuid), "BAD_REQUEST", "非群成员");

    const mark = await streamMark();
    await leaveGroup(ctx, a, g.uuid);
    expect(await statusOf(a, g.uuid)).toBe(6);
    await expectCount(g.uuid, 2);
    const events = await eventsSince(mark);
    expect(events.map((e) => [e.type, e.groupId, e.userIds, e.payload])).toEqual([["member.left", g.uuid, [a], { userId: a }]]);
    await refused(leaveGroup(ctx, a, g.uuid), "BAD_REQUEST", "非群成员");

    // A muted member may leave too.
    await setMemberMuted(ctx, owner, { groupId: g.uuid, userId: b, muted: true });
    await leaveGroup(ctx, b, g.uuid);
    await expectCount(g.uuid, 1);
  });
});

describe("removeMembers", () => {
  it("lets the owner kick active members, skipping others", async () => {
    const { owner, a, b } = await users3();
    const c = await newUser(ctx);
    const outsider = await newUser(ctx);
    const g = await createGroup(ctx, owner, { name: "kick", memberIds: [a, b, c] });
    await leaveGroup(ctx, c, g.uuid);
    await refused(removeMembers(ctx, a, { groupId: g.uuid, memberIds: [b] }), "FORBIDDEN", "只有群主可以移除成员");
    await refused(removeMembers(ctx, owner, { groupId: g.uuid, memberIds: [a, owner] }), "BAD_REQUEST", "不能移除群主");
    await refused(removeMembers(ctx, owner, { groupId: "Gnope0000000", memberIds: [a] }), "NOT_FOUND", "群组不存在");

    const mark = await streamMark();
    const { removed } = await removeMembers(ctx, owner, { groupId: g.uuid, memberIds: [b, outsider, c, a, b] });
    expect(removed).toEqual([b, a]);
    expect([await statusOf(a, g.uuid), await statusOf(b, g.uuid), await statusOf(c, g.uuid)]).toEqual([7, 7, 6]);
    await expectCount(g.uuid, 1);
    const events = await eventsSince(mark);
    expect(events.map((e) => [e.type, e.groupId, e.userIds, e.payload])).toEqual([["member.removed", g.uuid, [b, a], { userIds: [b, a], by: owner }]]);

    expect(await removeMembers(ctx, owner, { groupId: g.uuid, memberIds: [outsider] })).toEqual({ removed: [] });
    expect(await eventsSince(mark)).toHaveLength(1);
    // A kicked user is out: no reads, and may come back only through the owner.
    await refused(getGroupInfo(ctx, a, g.uuid), "FORBIDDEN", "非群成员");
  });
});

describe("setMemberMuted", () => {
  it("mutes and unmutes active members; muted members still count", async () => {
    const { owner, a } = await users3();
    const outsider = await newUser(ctx);
    const g = await createGroup(ctx, owner, { name: "mute", memberIds: [a] });
    const mark = await streamMark();
    expect(await setMemberMuted(ctx, owner, { groupId: g.uuid, userId: a, muted: true })).toEqual({ changed: true });
    expect(await statusOf(a, g.uuid)).toBe(5);
    await expectCount(g.uuid, 2);
    expect(await setMemberMuted(ctx, owner, { groupId: g.uuid, userId: a, muted: true })).toEqual({ changed: false });
    expect(await setMemberMuted(ctx, owner, { groupId: g.uuid, userId: a, muted: false })).toEqual({ changed: true });
    expect(await statusOf(a, g.uuid)).toBe(0);
    const events = await eventsSince(mark);
    expect(events.map((e) => [e.type, e.groupId, e.userIds, e.payload])).toEqual([
      ["member.muted", g.uuid, [a], { userId: a, by: owner }],
      ["member.unmuted", g.uuid, [a], { userId: a, by: owner }],
    ]);

    await refused(setMemberMuted(ctx, a, { groupId: g.uuid, userId: owner, muted: true }), "FORBIDDEN", "只有群主可以禁言成员");
    await refused(setMemberMuted(ctx, owner, { groupId: g.uuid, userId: owner, muted: true }), "BAD_REQUEST", "不能禁言群主");
    await refused(setMemberMuted(ctx, owner, { groupId: g.uuid, userId: outsider, muted: true }), "BAD_REQUEST", "对方不是群成员");
    await refused(setMemberMuted(ctx, owner, { groupId: "Gnope0000000", userId: a, muted: true }), "NOT_FOUND", "群组不存在");
  });
});

describe("transferOwnership", () => {
  it("hands the group to an active member and unmutes them", async () => {
    const { owner, a, b } = await users3();
    const outsider = await newUser(ctx);
    const g = await createGroup(ctx, owner, { name: "transfer", memberIds: [a, b] });
    await setMemberMuted(ctx, owner, { groupId: g.uuid, userId: a, muted: true });
    await refused(transferOwnership(ctx, b, { groupId: g.uuid, newOwnerId: b }), "FORBIDDEN", "只有群主可以转让群主");
    await refused(transferOwnership(ctx, owner, { groupId: g.uuid, newOwnerId: owner }), "BAD_REQUEST", "不能转让给自己");
    await refused(transferOwnership(ctx, owner, { groupId: g.uuid, newOwnerId: outsider }), "BAD_REQUEST", "对方不是群成员");
    await refused(transferOwnership(ctx, owner, { groupId: "Gnope0000000", newOwnerId: a }), "NOT_FOUND", "群组不存在");

    const mark = await streamMark();
    await transferOwnership(ctx, owner, { groupId: g.uuid, newOwnerId: a });
    expect((await loadGroup(ctx.db, g.uuid))?.ownerId).toBe(a);
    expect(await statusOf(a, g.uuid)).toBe(0);
    const events = await eventsSince(mark);
    expect(events.map((e) => [e.type, e.groupId, e.userIds, e.payload])).toEqual([["owner.transferred", g.uuid, [owner, a], { from: owner, to: a }]]);

    // The old owner is an ordinary member now and may leave; the new one may not.
    await refused(leaveGroup(ctx, a, g.uuid), "FORBIDDEN", "群主不能退群，请先转让群主或解散群");
    await leaveGroup(ctx, owner, g.uuid);
    await expectCount(g.uuid, 2);
    expect((await listGroupMembers(ctx, b, g.uuid)).map((m) => [m.userId, m.role])).toEqual([
      [a, 1],
      [b, 0],
    ]);
  });
});

describe("dismissGroup", () => {
  it("checks in the legacy order, ends every membership at once and tells the members", async () => {
    const { owner, a, b } = await users3();
    const c = await newUser(ctx);
    const g = await createGroup(ctx, owner, { name: "dismiss", memberIds: [a, b, c] });
    await leaveGroup(ctx, c, g.uuid);
    await setMemberMuted(ctx, owner, { groupId: g.uuid, userId: b, muted: true });
    await refused(dismissGroup(ctx, owner, "Gnope0000000"), "NOT_FOUND", "群组不存在");
    await refused(dismissGroup(ctx, a, g.uuid), "FORBIDDEN", "非群主无法解散群聊");

    const mark = await streamMark();
    await dismissGroup(ctx, owner, g.uuid);
    const row = await loadGroup(ctx.db, g.uuid);
    expect(row).toMatchObject({ status: 2, memberCnt: 0 });
    await expectCount(g.uuid, 0);
    const statuses = await ctx.db
      .select({ status: contacts.status })
      .from(contacts)
      .where(and(eq(contacts.contactId, g.uuid), eq(contacts.contactType, ContactType.group)));
    expect(statuses.map((s) => s.status)).toEqual([8, 8, 8, 8]);
    const events = await eventsSince(mark);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "group.dismissed", groupId: g.uuid, payload: { by: owner } });
    expect([...(events[0]?.userIds ?? [])].sort()).toEqual([owner, a, b].sort());

    await refused(dismissGroup(ctx, owner, g.uuid), "FORBIDDEN", "群组已解散，请勿重复操作");
    await refused(dismissGroup(ctx, a, g.uuid), "FORBIDDEN", "非群主无法解散群聊");
  });

  it("refuses a disabled group with its own text", async () => {
    const owner = await newUser(ctx);
    const g = await createGroup(ctx, owner, { name: "disabled", memberIds: [] });
    await ctx.db.update(groups).set({ status: 1 }).where(eq(groups.uuid, g.uuid));
    await refused(dismissGroup(ctx, owner, g.uuid), "FORBIDDEN", "群组状态异常，无法解散");
  });

  it("leaves a dismissed group refusing every operation", async () => {
    const { owner, a, b } = await users3();
    const applicant = await newUser(ctx);
    const g = await createGroup(ctx, owner, { name: "dead", memberIds: [a, b] });
    const { applyId } = await applyToJoinGroup(ctx, applicant, { groupId: g.uuid, message: "" });
    await dismissGroup(ctx, owner, g.uuid);
    const mark = await streamMark();

    await refused(inviteMembers(ctx, owner, { groupId: g.uuid, memberIds: [applicant] }), "FORBIDDEN", "群组已解散或状态异常，无法邀请成员");
    await refused(applyToJoinGroup(ctx, applicant, { groupId: g.uuid, message: "" }), "FORBIDDEN", "群组状态异常");
    await refused(approveJoinRequest(ctx, owner, applyId), "FORBIDDEN", "群组状态异常");
    await refused(rejectJoinRequest(ctx, owner, applyId), "FORBIDDEN", "群组状态异常");
    await refused(leaveGroup(ctx, a, g.uuid), "FORBIDDEN", "群组已解散或状态异常，无法退群");
    await refused(removeMembers(ctx, owner, { groupId: g.uuid, memberIds: [a] }), "FORBIDDEN", "群组已解散或状态异常，无法移除成员");
    await refused(setMemberMuted(ctx, owner, { groupId: g.uuid, userId: a, muted: true }), "FORBIDDEN", "群组已解散或状态异常");
    await refused(transferOwnership(ctx, owner, { groupId: g.uuid, newOwnerId: a }), "FORBIDDEN", "群组已解散或状态异常");
    await refused(updateGroup(ctx, owner, { groupId: g.uuid, name: "again" }), "FORBIDDEN", "群组已解散或状态异常");
    await refused(getGroupInfo(ctx, a, g.uuid), "FORBIDDEN", "非群成员");
    await refused(listGroupMembers(ctx, a, g.uuid), "FORBIDDEN", "非群成员");
    // The owner may still look at it (status 2), with nobody in it.
    expect((await getGroupInfo(ctx, owner, g.uuid)).status).toBe(2);
    expect(await listGroupMembers(ctx, owner, g.uuid)).toEqual([]);
    expect((await listJoinedGroups(ctx, a)).some((x) => x.groupId === g.uuid)).toBe(false);
    expect((await listOwnedGroups(ctx, owner)).some((x) => x.groupId === g.uuid)).toBe(false);
    expect(await listPendingJoinRequestsForOwner(ctx, owner)).toEqual([]);
    expect(await eventsSince(mark)).toEqual([]);
    await expectCount(g.uuid, 0);
  });
});
