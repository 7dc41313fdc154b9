import { messages, streamEvents } from "@omnilink/db";
import { and, asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { applyContact } from "../src/contacts/index.js";
import { createDomain } from "../src/create.js";
import { AppError } from "../src/errors.js";
import {
  applyToJoinGroup,
  approveJoinRequest,
  createGroup,
  dismissGroup,
  getGroupInfo,
  inviteMembers,
  leaveGroup,
  listGroupMembers,
  listJoinRequests,
  listPendingJoinRequestsForOwner,
  rejectJoinRequest,
  removeMembers,
  setGroupAdmin,
  setMemberMuted,
  setMuteAll,
  transferOwnership,
  updateGroup,
} from "../src/groups/index.js";
import { collect, eventsSince, groupWith, memberCount, send, settle, streamMark } from "./fixtures.js";
import { expectAppError, namedUsers, newUser, newUsers, TEST_SCRYPT_COST, useTestContext } from "./helpers.js";

/**
 * Group admins and mute-all (ARCHITECTURE.md "Group admins and mute-all"; legacy-contract D28–D30).
 * The races at the end matter on PostgreSQL (DATABASE_URL), where transactions really overlap.
 */
const t = useTestContext({ groupSendBurst: 100_000, groupSendPerSecond: 100_000 });

/** A group of owner + three members, one of them appointed admin. */
async function staffedGroup(addMode: 0 | 1 = 0) {
  const u = await namedUsers(t.ctx, "owner", "admin", "m1", "m2");
  const g = await createGroup(t.ctx, u.owner, { name: "staffed", memberIds: [u.admin, u.m1, u.m2], addMode });
  await setGroupAdmin(t.ctx, u.owner, { groupId: g.uuid, userId: u.admin, admin: true });
  return { ...u, groupId: g.uuid };
}

const roles = async (viewer: string, groupId: string) => (await listGroupMembers(t.ctx, viewer, groupId)).map((m) => [m.userId, m.role]);

/** Only refusals (AppError) are acceptable outcomes of a race; anything else (deadlock, 500) fails. */
function unexpected(results: PromiseSettledResult<unknown>[]): unknown[] {
  return results.filter((r): r is PromiseRejectedResult => r.status === "rejected" && !(r.reason instanceof AppError)).map((r): unknown => r.reason);
}

describe("appointing and revoking admins", () => {
  it("the owner appoints and revokes; a repeat changes nothing and emits nothing; member lists carry the role", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 2);
    const [a = "", b = ""] = members;
    const mark = await streamMark(t.ctx);
    expect(await setGroupAdmin(t.ctx, owner, { groupId, userId: a, admin: true })).toEqual({ changed: true });
    expect(await setGroupAdmin(t.ctx, owner, { groupId, userId: a, admin: true })).toEqual({ changed: false });
    expect(await roles(b, groupId)).toEqual([
      [owner, "owner"],
      [a, "admin"],
      [b, "member"],
    ]);
    expect(await setGroupAdmin(t.ctx, owner, { groupId, userId: a, admin: false })).toEqual({ changed: true });
    expect(await setGroupAdmin(t.ctx, owner, { groupId, userId: a, admin: false })).toEqual({ changed: false });
    expect(await roles(a, groupId)).toEqual([
      [owner, "owner"],
      [a, "member"],
      [b, "member"],
    ]);
    expect(await eventsSince(t.ctx, mark)).toEqual([
      { type: "member.role", groupId, userIds: [a], payload: { userId: a, role: "admin", by: owner } },
      { type: "member.role", groupId, userIds: [a], payload: { userId: a, role: "member", by: owner } },
    ]);
  });

  it("refuses non-owners, the owner as target, non-members, muted members and closed groups", async () => {
    const { owner, admin, m1, m2, groupId } = await staffedGroup();
    const stranger = await newUser(t.ctx, "stranger");
    await expectAppError(setGroupAdmin(t.ctx, admin, { groupId, userId: m1, admin: true }), "FORBIDDEN", "只有群主可以设置管理员");
    await expectAppError(setGroupAdmin(t.ctx, admin, { groupId, userId: admin, admin: false }), "FORBIDDEN", "只有群主可以设置管理员");
    await expectAppError(setGroupAdmin(t.ctx, m1, { groupId, userId: m1, admin: true }), "FORBIDDEN", "只有群主可以设置管理员");
    await expectAppError(setGroupAdmin(t.ctx, owner, { groupId, userId: owner, admin: true }), "BAD_REQUEST", "群主不能被设为管理员");
    await expectAppError(setGroupAdmin(t.ctx, owner, { groupId, userId: stranger, admin: true }), "BAD_REQUEST", "对方不是群成员");
    await expectAppError(setGroupAdmin(t.ctx, owner, { groupId: "Gnope0000000", userId: m1, admin: true }), "NOT_FOUND", "群组不存在");
    // Decision: an admin is never muted, so a muted member is not appointed (unmute first).
    await setMemberMuted(t.ctx, owner, { groupId, userId: m2, muted: true });
    await expectAppError(setGroupAdmin(t.ctx, owner, { groupId, userId: m2, admin: true }), "BAD_REQUEST", "该成员被禁言中，请先解除禁言");
    // ... and the owner does not mute an admin (revoke first).
    await expectAppError(setMemberMuted(t.ctx, owner, { groupId, userId: admin, muted: true }), "BAD_REQUEST", "不能禁言管理员，请先取消其管理员身份");
    await dismissGroup(t.ctx, owner, groupId);
    await expectAppError(setGroupAdmin(t.ctx, owner, { groupId, userId: m1, admin: true }), "FORBIDDEN", "群组已解散或状态异常");
  });

  it("at most maxGroupAdmins admins per group", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 4);
    const saved = t.ctx.limits.maxGroupAdmins;
    t.ctx.limits.maxGroupAdmins = 2;
    try {
      await setGroupAdmin(t.ctx, owner, { groupId, userId: members[0] ?? "", admin: true });
      await setGroupAdmin(t.ctx, owner, { groupId, userId: members[1] ?? "", admin: true });
      await expectAppError(setGroupAdmin(t.ctx, owner, { groupId, userId: members[2] ?? "", admin: true }), "CONFLICT", "管理员人数已达上限");
      // A revoked (or departed) admin frees a place.
      await leaveGroup(t.ctx, members[0] ?? "", groupId);
      expect(await setGroupAdmin(t.ctx, owner, { groupId, userId: members[2] ?? "", admin: true })).toEqual({ changed: true });
    } finally {
      t.ctx.limits.maxGroupAdmins = saved;
    }
  });

  it("leaving or being removed ends the role, and a rejoin does not restore it", async () => {
    const { owner, admin, m1, groupId } = await staffedGroup();
    await setGroupAdmin(t.ctx, owner, { groupId, userId: m1, admin: true });
    await leaveGroup(t.ctx, admin, groupId);
    await removeMembers(t.ctx, owner, { groupId, memberIds: [m1] });
    await inviteMembers(t.ctx, owner, { groupId, memberIds: [admin, m1] });
    const back = await roles(owner, groupId);
    expect(back.filter(([, role]) => role === "admin")).toEqual([]);
    expect(back).toContainEqual([admin, "member"]);
    expect(back).toContainEqual([m1, "member"]);
    // The rejoined former admin has no powers.
    await expectAppError(updateGroup(t.ctx, admin, { groupId, name: "nope" }), "FORBIDDEN", "只有群主可以修改群资料");
  });

  it("a transfer clears the new owner's admin role and makes the old owner an ordinary member", async () => {
    const { owner, admin, m1, m2, groupId } = await staffedGroup();
    await transferOwnership(t.ctx, owner, { groupId, newOwnerId: admin });
    expect(await roles(m1, groupId)).toEqual([
      [admin, "owner"],
      [owner, "member"],
      [m1, "member"],
      [m2, "member"],
    ]);
    // The old owner has no powers left.
    await expectAppError(removeMembers(t.ctx, owner, { groupId, memberIds: [m1] }), "FORBIDDEN", "只有群主可以移除成员");
    // The new owner is not counted as an admin (the role is cleared, not just shadowed): a later
    // transfer back leaves them an ordinary member too.
    await transferOwnership(t.ctx, admin, { groupId, newOwnerId: owner });
    expect((await roles(m1, groupId)).find(([id]) => id === admin)).toEqual([admin, "member"]);
  });
});

describe("what an admin may and may not do", () => {
  it("decides join requests, and lists them (per group and with the owner's pending list)", async () => {
    const { owner, admin, m1, groupId } = await staffedGroup();
    const [x = "", y = ""] = await newUsers(t.ctx, 2, "ap");
    const { applyId: ax } = await applyToJoinGroup(t.ctx, x, { groupId, message: "x" });
    const { applyId: ay } = await applyToJoinGroup(t.ctx, y, { groupId, message: "y" });
    expect((await listJoinRequests(t.ctx, admin, groupId)).map((r) => r.applyId).sort()).toEqual([ax, ay].sort());
    expect((await listPendingJoinRequestsForOwner(t.ctx, admin)).map((r) => r.applyId).sort()).toEqual([ax, ay].sort());
    await expectAppError(listJoinRequests(t.ctx, m1, groupId), "FORBIDDEN", "只有群主可以审批入群申请");
    expect(await listPendingJoinRequestsForOwner(t.ctx, m1)).toEqual([]);
    await expectAppError(approveJoinRequest(t.ctx, m1, ax), "FORBIDDEN", "只有群主可以审批入群申请");
    await expectAppError(rejectJoinRequest(t.ctx, m1, ay), "FORBIDDEN", "只有群主可以审批");

    const mark = await streamMark(t.ctx);
    expect(await approveJoinRequest(t.ctx, admin, ax)).toMatchObject({ changed: true, joined: true });
    expect(await rejectJoinRequest(t.ctx, admin, ay)).toMatchObject({ changed: true });
    const events = await eventsSince(t.ctx, mark);
    // request.decided reaches the applicant, the deciding admin and the owner.
    expect(events.map((e) => [e.type, [...e.userIds].sort()])).toEqual([
      ["request.decided", [x, admin, owner].sort()],
      ["member.joined", [x]],
      ["request.decided", [y, admin, owner].sort()],
    ]);
    expect(events[0]?.payload).toMatchObject({ approved: true, by: admin });
    expect(await memberCount(t.ctx, groupId)).toEqual({ cnt: 5, real: 5 });
  });

  it("join-request notices go to the owner and every admin", async () => {
    const { owner, admin, m1, m2, groupId } = await staffedGroup(1);
    await setGroupAdmin(t.ctx, owner, { groupId, userId: m1, admin: true });
    const [x = "", y = "", z = ""] = await newUsers(t.ctx, 3, "ap");
    const mark = await streamMark(t.ctx);
    await applyToJoinGroup(t.ctx, x, { groupId, message: "" });
    const viaContacts = await applyContact(t.ctx, y, { contactId: groupId, message: "" });
    expect([...viaContacts.notify].sort()).toEqual([owner, admin, m1].sort());
    // An ordinary member's invite into an approval group makes a request the admins hear of too.
    expect(await inviteMembers(t.ctx, m2, { groupId, memberIds: [z] })).toEqual({ added: [], requested: [z] });
    const created = (await eventsSince(t.ctx, mark)).filter((e) => e.type === "request.created");
    expect(created.map((e) => [...e.userIds].sort())).toEqual([
      [owner, admin, m1].sort(),
      [owner, admin, m1].sort(),
      [owner, admin, m1].sort(),
    ]);
  });

  it("invites like the owner: directly, even into an approval group", async () => {
    const { admin, groupId } = await staffedGroup(1);
    const x = await newUser(t.ctx, "inv");
    expect(await inviteMembers(t.ctx, admin, { groupId, memberIds: [x] })).toEqual({ added: [x], requested: [] });
  });

  it("removes, mutes and unmutes ordinary members, but not the owner or other admins", async () => {
    const { owner, admin, m1, m2, groupId } = await staffedGroup();
    const other = await newUser(t.ctx, "admin2");
    await inviteMembers(t.ctx, owner, { groupId, memberIds: [other] });
    await setGroupAdmin(t.ctx, owner, { groupId, userId: other, admin: true });

    expect(await setMemberMuted(t.ctx, admin, { groupId, userId: m1, muted: true })).toEqual({ changed: true });
    expect(await setMemberMuted(t.ctx, admin, { groupId, userId: m1, muted: false })).toEqual({ changed: true });
    const touch = "管理员不能对群主或其他管理员操作";
    await expectAppError(setMemberMuted(t.ctx, admin, { groupId, userId: owner, muted: true }), "FORBIDDEN", touch);
    await expectAppError(setMemberMuted(t.ctx, admin, { groupId, userId: other, muted: true }), "FORBIDDEN", touch);
    await expectAppError(setMemberMuted(t.ctx, admin, { groupId, userId: admin, muted: true }), "FORBIDDEN", touch);
    await expectAppError(removeMembers(t.ctx, admin, { groupId, memberIds: [m2, owner] }), "FORBIDDEN", touch);
    await expectAppError(removeMembers(t.ctx, admin, { groupId, memberIds: [m2, other] }), "FORBIDDEN", touch);
    // Refused whole: m2 is still there.
    expect((await roles(owner, groupId)).map(([id]) => id)).toContain(m2);
    expect(await removeMembers(t.ctx, admin, { groupId, memberIds: [m2] })).toEqual({ removed: [m2] });
    // The owner may remove an admin; the role goes with the membership.
    expect(await removeMembers(t.ctx, owner, { groupId, memberIds: [other] })).toEqual({ removed: [other] });
    // An ordinary member may do none of it.
    await expectAppError(setMemberMuted(t.ctx, m1, { groupId, userId: admin, muted: true }), "FORBIDDEN", "只有群主可以禁言成员");
    await expectAppError(removeMembers(t.ctx, m1, { groupId, memberIds: [admin] }), "FORBIDDEN", "只有群主可以移除成员");
  });

  it("edits name, notice and avatar, but the add mode is the owner's", async () => {
    const { owner, admin, m1, groupId } = await staffedGroup();
    expect(await updateGroup(t.ctx, admin, { groupId, name: "by admin", notice: "admin rules", avatar: "https://x/y.png" })).toMatchObject({
      name: "by admin",
      notice: "admin rules",
      avatar: "https://x/y.png",
    });
    await expectAppError(updateGroup(t.ctx, admin, { groupId, addMode: 1 }), "FORBIDDEN", "只有群主可以修改入群方式");
    // Naming the current add mode changes nothing, so it is no refusal.
    expect(await updateGroup(t.ctx, admin, { groupId, addMode: 0, notice: "same mode" })).toMatchObject({ addMode: 0, notice: "same mode" });
    expect(await updateGroup(t.ctx, owner, { groupId, addMode: 1 })).toMatchObject({ addMode: 1 });
    await expectAppError(updateGroup(t.ctx, m1, { groupId, name: "member" }), "FORBIDDEN", "只有群主可以修改群资料");
  });

  it("never dismisses or transfers", async () => {
    const { admin, m1, groupId } = await staffedGroup();
    await expectAppError(dismissGroup(t.ctx, admin, groupId), "FORBIDDEN", "非群主无法解散群聊");
    await expectAppError(transferOwnership(t.ctx, admin, { groupId, newOwnerId: m1 }), "FORBIDDEN", "只有群主可以转让群主");
    expect((await getGroupInfo(t.ctx, admin, groupId)).status).toBe(0);
  });
});

describe("mute-all", () => {
  it("owner and admins switch it; while on only they may send; a repeat emits nothing", async () => {
    const { owner, admin, m1, m2, groupId } = await staffedGroup();
    await setMemberMuted(t.ctx, owner, { groupId, userId: m2, muted: true });
    await expectAppError(setMuteAll(t.ctx, m1, { groupId, muted: true }), "FORBIDDEN", "只有群主和管理员可以设置全员禁言");
    const mark = await streamMark(t.ctx);
    expect(await setMuteAll(t.ctx, admin, { groupId, muted: true })).toEqual({ changed: true });
    expect(await setMuteAll(t.ctx, owner, { groupId, muted: true })).toEqual({ changed: false });
    expect((await getGroupInfo(t.ctx, m1, groupId)).muteAll).toBe(true);
    await expectAppError(send(t.ctx, m1, groupId, "hush"), "FORBIDDEN", "全员禁言中，仅群主和管理员可以发言");
    expect((await send(t.ctx, admin, groupId, "admin speaks")).message.content).toBe("admin speaks");
    expect((await send(t.ctx, owner, groupId, "owner speaks")).message.content).toBe("owner speaks");
    expect(await setMuteAll(t.ctx, owner, { groupId, muted: false })).toEqual({ changed: true });
    expect((await send(t.ctx, m1, groupId, "free again")).message.content).toBe("free again");
    // The individually muted member stays muted.
    await expectAppError(send(t.ctx, m2, groupId, "still muted"), "FORBIDDEN", "无权发送消息");
    expect((await eventsSince(t.ctx, mark)).map((e) => [e.type, e.groupId, e.payload])).toEqual([
      ["group.muteAll", groupId, { muted: true, by: admin }],
      ["group.muteAll", groupId, { muted: false, by: owner }],
    ]);
  });

  it("a revoked admin is an ordinary member again under mute-all", async () => {
    const { owner, admin, groupId } = await staffedGroup();
    await setMuteAll(t.ctx, owner, { groupId, muted: true });
    await send(t.ctx, admin, groupId, "still admin");
    await setGroupAdmin(t.ctx, owner, { groupId, userId: admin, admin: false });
    await expectAppError(send(t.ctx, admin, groupId, "not any more"), "FORBIDDEN", "全员禁言中，仅群主和管理员可以发言");
    await expectAppError(setMuteAll(t.ctx, admin, { groupId, muted: false }), "FORBIDDEN", "只有群主和管理员可以设置全员禁言");
  });
});

describe("live events across two nodes", () => {
  it("role changes and mute-all switches made on one node reach members subscribed on another", async () => {
    const other = await createDomain({ db: t.ctx.db, tokens: t.ctx.tokens, bus: t.ctx.bus, scryptCost: TEST_SCRYPT_COST });
    try {
      const { owner, members, groupId } = await groupWith(t.ctx, 2);
      const [a = "", b = ""] = members;
      // Resuming from an exact id, so nothing depends on when the subscriptions become live.
      const mark = await streamMark(t.ctx);
      const onOther = collect(other, b, mark);
      const onThis = collect(t.ctx, a, mark);
      await setGroupAdmin(t.ctx, owner, { groupId, userId: a, admin: true });
      await setMuteAll(t.ctx, a, { groupId, muted: true });
      await setGroupAdmin(t.ctx, owner, { groupId, userId: a, admin: false });
      for (const stream of [onOther, onThis]) {
        const items = await stream.until(3);
        expect(items.map((i) => (i.kind === "event" ? [i.event.type, i.event.payload] : [i.kind]))).toEqual([
          ["member.role", { userId: a, role: "admin", by: owner }],
          ["group.muteAll", { muted: true, by: a }],
          ["member.role", { userId: a, role: "member", by: owner }],
        ]);
      }
      await settle();
      expect(onOther.items).toHaveLength(3);
      await onOther.stop();
      await onThis.stop();
    } finally {
      await other.stop();
    }
  });
});

describe("races (PostgreSQL)", () => {
  it("parallel appointments never pass maxGroupAdmins", async () => {
    const saved = t.ctx.limits.maxGroupAdmins;
    t.ctx.limits.maxGroupAdmins = 3;
    try {
      for (let round = 0; round < 5; round++) {
        const { owner, members, groupId } = await groupWith(t.ctx, 12);
        const results = await Promise.allSettled(members.map((userId) => setGroupAdmin(t.ctx, owner, { groupId, userId, admin: true })));
        expect(unexpected(results)).toEqual([]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
        expect((await roles(owner, groupId)).filter(([, role]) => role === "admin")).toHaveLength(3);
      }
    } finally {
      t.ctx.limits.maxGroupAdmins = saved;
    }
  });

  /**
   * An admin approving (or removing) while the owner revokes them: the approval either commits
   * before the revocation (its events come first in the stream) or is refused. Never after it.
   */
  it("an admin's approvals and removals racing their revocation: exactly one order wins", async () => {
    let approvedFirst = 0;
    let refused = 0;
    for (let round = 0; round < 12; round++) {
      const groups = await Promise.all(Array.from({ length: 4 }, () => staffedGroup()));
      const applicants = await newUsers(t.ctx, groups.length, "race");
      const applies = await Promise.all(groups.map((g, i) => applyToJoinGroup(t.ctx, applicants[i] ?? "", { groupId: g.groupId, message: "" })));
      const mark = await streamMark(t.ctx);
      const results = await Promise.allSettled(
        groups.flatMap((g, i) => [
          approveJoinRequest(t.ctx, g.admin, applies[i]?.applyId ?? ""),
          removeMembers(t.ctx, g.admin, { groupId: g.groupId, memberIds: [g.m1] }),
          setGroupAdmin(t.ctx, g.owner, { groupId: g.groupId, userId: g.admin, admin: false }),
        ]),
      );
      expect(unexpected(results)).toEqual([]);
      const rows = await t.ctx.db
        .select({ id: streamEvents.id, type: streamEvents.type, groupId: streamEvents.groupId, payload: streamEvents.payload })
        .from(streamEvents)
        .orderBy(asc(streamEvents.id));
      const events = rows.filter((r) => r.id > mark);
      for (const [i, g] of groups.entries()) {
        const [approve, remove] = [results[i * 3], results[i * 3 + 1]];
        const revokedAt = events.find((e) => e.type === "member.role" && e.groupId === g.groupId)?.id ?? 0;
        expect(revokedAt).toBeGreaterThan(0);
        const applicant = applicants[i] ?? "";
        const joinedAt = events.find((e) => e.type === "member.joined" && e.groupId === g.groupId)?.id;
        const removedAt = events.find((e) => e.type === "member.removed" && e.groupId === g.groupId)?.id;
        if (approve?.status === "fulfilled") {
          approvedFirst++;
          expect(joinedAt).toBeLessThan(revokedAt);
        } else {
          refused++;
          expect(joinedAt).toBeUndefined();
          expect((await roles(g.owner, g.groupId)).map(([id]) => id)).not.toContain(applicant);
        }
        if (remove?.status === "fulfilled") expect(removedAt).toBeLessThan(revokedAt);
        else expect(removedAt).toBeUndefined();
      }
    }
    expect(approvedFirst + refused).toBe(48);
  });

  /**
   * Sends from ordinary members racing mute-all going on: every committed message from a
   * non-manager has a stream id below the switch's event (ids are taken under the group's lock).
   */
  it("no ordinary member's message commits after mute-all does", async () => {
    for (let round = 0; round < 6; round++) {
      const { owner, admin, m1, m2, groupId } = await staffedGroup();
      const senders = [m1, m2, admin, owner];
      const sends = senders.flatMap((who) => Array.from({ length: 25 }, (_, k) => send(t.ctx, who, groupId, `${who}:${k}`)));
      const switched = (async () => {
        await new Promise((r) => setTimeout(r, 2 + round * 3));
        return setMuteAll(t.ctx, admin, { groupId, muted: true });
      })();
      const results = await Promise.allSettled([...sends, switched]);
      expect(unexpected(results)).toEqual([]);
      const [event] = await t.ctx.db
        .select({ id: streamEvents.id })
        .from(streamEvents)
        .where(and(eq(streamEvents.groupId, groupId), eq(streamEvents.type, "group.muteAll")));
      const mutedAt = event?.id ?? 0;
      expect(mutedAt).toBeGreaterThan(0);
      const stored = await t.ctx.db.select({ id: messages.id, sendId: messages.sendId }).from(messages).where(eq(messages.conversationId, groupId));
      const late = stored.filter((m) => (m.sendId === m1 || m.sendId === m2) && m.id > mutedAt);
      expect(late).toEqual([]);
      // Every refusal is the mute-all one, and the managers were never refused.
      for (const [i, r] of results.slice(0, sends.length).entries()) {
        if (r.status === "rejected") {
          expect((r.reason as AppError).message).toBe("全员禁言中，仅群主和管理员可以发言");
          expect([m1, m2]).toContain(senders[Math.floor(i / 25)]);
        }
      }
      expect(stored.filter((m) => m.sendId === owner || m.sendId === admin)).toHaveLength(50);
    }
  });
});
