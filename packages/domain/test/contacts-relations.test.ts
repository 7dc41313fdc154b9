import { ApplyStatus, contactApplies, contacts, groups, users } from "@omnilink/db";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  applyFriend,
  approveFriend,
  blockContact,
  deleteFriend,
  friendship,
  getContactInfo,
  listFriends,
  listPendingApplies,
  unblockContact,
} from "../src/contacts/index.js";
import { AppError } from "../src/errors.js";
import { createGroup } from "../src/groups/index.js";
import { approvedFriends, eventsSince, streamMark } from "./fixtures.js";
import { expectAppError, newUser, useTestContext } from "./helpers.js";

const t = useTestContext();

/** Both rows' statuses: [a→b, b→a], undefined where a row is missing. */
const pair = async (a: string, b: string) => [await friendship(t.ctx.db, a, b), await friendship(t.ctx.db, b, a)];

describe("deleteFriend", () => {
  it("marks my row deleted and theirs deleted-by-friend, tells both, and lets either apply again", async () => {
    const [a, b] = await approvedFriends(t.ctx);
    const before = await streamMark(t.ctx);
    expect(await deleteFriend(t.ctx, a, { friendId: b })).toEqual({ changed: true });
    expect(await pair(a, b)).toEqual([3, 4]);
    expect(await listFriends(t.ctx, a)).toEqual([]);
    expect(await listFriends(t.ctx, b)).toEqual([]);
    expect(await eventsSince(t.ctx, before)).toEqual([{ type: "friend.removed", groupId: null, userIds: [a, b], payload: { by: a, userId: b } }]);

    // Repeating is a no-op; the other side can no longer delete what is gone.
    expect(await deleteFriend(t.ctx, a, { friendId: b })).toEqual({ changed: false });
    await expectAppError(deleteFriend(t.ctx, b, { friendId: a }), "BAD_REQUEST", "非好友关系");

    const { applyId } = await applyFriend(t.ctx, b, { targetId: a, message: "again" });
    await approveFriend(t.ctx, a, applyId);
    expect(await pair(a, b)).toEqual([0, 0]);
  });

  it("refuses a non-friend and bad input", async () => {
    const a = await newUser(t.ctx, "da");
    const b = await newUser(t.ctx, "db");
    await expectAppError(deleteFriend(t.ctx, a, { friendId: b }), "BAD_REQUEST", "非好友关系");
    await expectAppError(deleteFriend(t.ctx, a, { friendId: "" }), "BAD_REQUEST", "参数错误");
    expect(await pair(a, b)).toEqual([undefined, undefined]);
  });
});

describe("blockContact / unblockContact", () => {
  it("blocks a friend and restores the friendship on unblock", async () => {
    const [a, b] = await approvedFriends(t.ctx);
    const before = await streamMark(t.ctx);
    expect(await blockContact(t.ctx, a, { targetId: b })).toEqual({ changed: true });
    expect(await pair(a, b)).toEqual([1, 2]);
    expect(await blockContact(t.ctx, a, { targetId: b })).toEqual({ changed: false });
    expect(await listFriends(t.ctx, a)).toEqual([]);
    await expectAppError(applyFriend(t.ctx, b, { targetId: a, message: "" }), "FORBIDDEN", "对方已将您拉黑");
    await expectAppError(applyFriend(t.ctx, a, { targetId: b, message: "" }), "BAD_REQUEST", "您已将对方拉黑");
    await expectAppError(deleteFriend(t.ctx, a, { friendId: b }), "BAD_REQUEST", "非好友关系");
    // Only the blocker can lift it.
    await expectAppError(unblockContact(t.ctx, b, { targetId: a }), "BAD_REQUEST", "未拉黑对方");

    expect(await unblockContact(t.ctx, a, { targetId: b })).toEqual({ changed: true });
    expect(await pair(a, b)).toEqual([0, 0]);
    expect((await listFriends(t.ctx, a)).map((f) => f.userId)).toEqual([b]);
    // Blocking is announced to the blocker only (its stream position is where it took effect),
    // never to the blocked user.
    const events = await eventsSince(t.ctx, before);
    expect(events.map((e) => [e.type, e.userIds])).toEqual([
      ["contact.blocked", [a]],
      ["contact.unblocked", [a]],
    ]);
  });

  it("blocks a stranger without ever making them a friend", async () => {
    const me = await newUser(t.ctx, "sm");
    const spammer = await newUser(t.ctx, "ss");
    const { applyId } = await applyFriend(t.ctx, spammer, { targetId: me, message: "spam" });
    expect(await blockContact(t.ctx, me, { targetId: spammer })).toEqual({ changed: true });
    expect(await pair(me, spammer)).toEqual([1, 2]);
    // Their pending request is answered by the block and cannot be approved or renewed.
    const [apply] = await t.ctx.db.select().from(contactApplies).where(eq(contactApplies.uuid, applyId));
    expect(apply).toMatchObject({ status: ApplyStatus.blacklisted, decidedBy: me });
    expect(await listPendingApplies(t.ctx, me)).toEqual([]);
    await expectAppError(approveFriend(t.ctx, me, applyId), "FORBIDDEN", "该申请已被拉黑");
    await expectAppError(applyFriend(t.ctx, spammer, { targetId: me, message: "again" }), "FORBIDDEN", "对方已将您拉黑");

    expect(await unblockContact(t.ctx, me, { targetId: spammer })).toEqual({ changed: true });
    expect(await pair(me, spammer)).toEqual([undefined, undefined]);
    expect(await listFriends(t.ctx, me)).toEqual([]);
    const [after] = await t.ctx.db.select().from(contactApplies).where(eq(contactApplies.uuid, applyId));
    expect(after?.status).toBe(ApplyStatus.rejected);
    // After the unblock they may ask again, through the same request row.
    expect((await applyFriend(t.ctx, spammer, { targetId: me, message: "sorry" })).applyId).toBe(applyId);
  });

  it("marks a stranger block even when the blocked user never applied", async () => {
    const me = await newUser(t.ctx, "km");
    const other = await newUser(t.ctx, "ko");
    await blockContact(t.ctx, me, { targetId: other });
    expect(await t.ctx.db.$count(contactApplies, and(eq(contactApplies.userId, other), eq(contactApplies.contactId, me)))).toBe(1);
    await unblockContact(t.ctx, me, { targetId: other });
    expect(await pair(me, other)).toEqual([undefined, undefined]);
    expect(await listPendingApplies(t.ctx, me)).toEqual([]);
  });

  it("keeps each side's block when both block, and restores friends only when both lift them", async () => {
    const [a, b] = await approvedFriends(t.ctx);
    await blockContact(t.ctx, a, { targetId: b });
    await blockContact(t.ctx, b, { targetId: a });
    expect(await pair(a, b)).toEqual([1, 1]);
    await unblockContact(t.ctx, a, { targetId: b });
    expect(await pair(a, b)).toEqual([2, 1]);
    await unblockContact(t.ctx, b, { targetId: a });
    expect(await pair(a, b)).toEqual([0, 0]);
  });

  it("leaves strangers who both blocked each other strangers", async () => {
    const a = await newUser(t.ctx, "ua");
    const b = await newUser(t.ctx, "ub");
    await blockContact(t.ctx, a, { targetId: b });
    await blockContact(t.ctx, b, { targetId: a });
    await unblockContact(t.ctx, b, { targetId: a });
    expect(await pair(a, b)).toEqual([1, 2]);
    await unblockContact(t.ctx, a, { targetId: b });
    expect(await pair(a, b)).toEqual([undefined, undefined]);
  });

  it("refuses self, unknown users and unblocking someone not blocked", async () => {
    const a = await newUser(t.ctx, "ra");
    const b = await newUser(t.ctx, "rb");
    await expectAppError(blockContact(t.ctx, a, { targetId: a }), "BAD_REQUEST", "不能拉黑自己");
    await expectAppError(blockContact(t.ctx, a, { targetId: "" }), "BAD_REQUEST", "参数错误");
    await expectAppError(blockContact(t.ctx, a, { targetId: "U00000000000" }), "NOT_FOUND", "用户不存在");
    await expectAppError(unblockContact(t.ctx, a, { targetId: b }), "BAD_REQUEST", "未拉黑对方");
    await expectAppError(unblockContact(t.ctx, a, { targetId: a }), "BAD_REQUEST", "未拉黑对方");
    await expectAppError(unblockContact(t.ctx, a, { targetId: " " }), "BAD_REQUEST", "参数错误");
  });

  it("serialises a block and an approval racing on one pair", async () => {
    const a = await newUser(t.ctx, "ca");
    const b = await newUser(t.ctx, "cb");
    const { applyId } = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    const [approved, blocked] = await Promise.allSettled([approveFriend(t.ctx, b, applyId), blockContact(t.ctx, b, { targetId: a })]);
    expect(blocked.status).toBe("fulfilled");
    // Whichever ran first, the block stands at the end.
    expect(await pair(b, a)).toEqual([1, 2]);
    if (approved.status === "rejected") expect((approved.reason as AppError).message).toBe("该申请已被拉黑");
    await unblockContact(t.ctx, b, { targetId: a });
    // Friends again only if the approval had won.
    expect(await pair(b, a)).toEqual(approved.status === "fulfilled" ? [0, 0] : [undefined, undefined]);
  });
});

describe("concurrency on one pair", () => {
  it("blocks, applies and approvals from both sides at once end consistent, without deadlocks", async () => {
    const a = await newUser(t.ctx, "xa");
    const b = await newUser(t.ctx, "xb");
    const first = await applyFriend(t.ctx, a, { targetId: b, message: "" });
    const results = await Promise.allSettled([
      blockContact(t.ctx, a, { targetId: b }),
      blockContact(t.ctx, b, { targetId: a }),
      applyFriend(t.ctx, a, { targetId: b, message: "" }),
      applyFriend(t.ctx, b, { targetId: a, message: "" }),
      approveFriend(t.ctx, b, first.applyId),
      deleteFriend(t.ctx, a, { friendId: b }),
    ]);
    // Every refusal is a business error, never a deadlock or a constraint violation.
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(AppError);
    expect(results.slice(0, 2).map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(await pair(a, b)).toEqual([1, 1]);
    await unblockContact(t.ctx, a, { targetId: b });
    await unblockContact(t.ctx, b, { targetId: a });
    const end = await pair(a, b);
    // Friends if the approval ran before both blocks, strangers otherwise.
    expect([JSON.stringify([0, 0]), JSON.stringify([undefined, undefined])]).toContain(JSON.stringify(end));
  });
});

describe("getContactInfo", () => {
  it("shows a friend's profile", async () => {
    const [a, b] = await approvedFriends(t.ctx);
    await t.ctx.db.update(users).set({ signature: "sig", gender: 1, birthday: "20000102" }).where(eq(users.uuid, b));
    const [p] = await t.ctx.db.select().from(users).where(eq(users.uuid, b));
    expect(await getContactInfo(t.ctx, a, { contactId: b })).toEqual({
      contactId: b,
      name: p!.nickname,
      avatar: p!.avatar,
      signature: "sig",
      gender: 1,
      birthday: "20000102",
      kind: "user",
    });
    await t.ctx.db.update(users).set({ nickname: "" }).where(eq(users.uuid, b));
    expect((await getContactInfo(t.ctx, a, { contactId: b })).name).toBe(p!.username);
  });

  it("shows a group I belong to with its real name and avatar", async () => {
    const owner = await newUser(t.ctx, "go");
    const member = await newUser(t.ctx, "gm");
    const outsider = await newUser(t.ctx, "gx");
    const group = await createGroup(t.ctx, owner, { name: "读书会", memberIds: [member] });
    const groupId = group.uuid;
    const [g] = await t.ctx.db.select().from(groups).where(eq(groups.uuid, groupId));
    expect(await getContactInfo(t.ctx, member, { contactId: groupId })).toEqual({
      contactId: groupId,
      name: "读书会",
      avatar: g!.avatar,
      signature: "",
      gender: -1,
      birthday: "",
      kind: "group",
    });
    await expectAppError(getContactInfo(t.ctx, outsider, { contactId: groupId }), "FORBIDDEN", "无权查看该联系人");
  });

  it("refuses bad input, non-contacts, blocked or deleted contacts, and missing profiles", async () => {
    const [a, b] = await approvedFriends(t.ctx);
    const stranger = await newUser(t.ctx, "is");
    await expectAppError(getContactInfo(t.ctx, a, { contactId: "" }), "BAD_REQUEST", "参数错误");
    await expectAppError(getContactInfo(t.ctx, a, { contactId: stranger }), "FORBIDDEN", "无权查看该联系人");
    await blockContact(t.ctx, b, { targetId: a });
    await expectAppError(getContactInfo(t.ctx, a, { contactId: b }), "FORBIDDEN", "无权查看该联系人");
    await unblockContact(t.ctx, b, { targetId: a });
    // A friend row whose user is gone (contact_id has no foreign key).
    const gone = await newUser(t.ctx, "ig");
    await t.ctx.db.insert(contacts).values({ userId: a, contactId: gone, contactType: 0, status: 0 });
    await t.ctx.db.delete(users).where(eq(users.uuid, gone));
    await expectAppError(getContactInfo(t.ctx, a, { contactId: gone }), "NOT_FOUND", "联系人不存在");
    // A membership row whose group is gone.
    await t.ctx.db.insert(contacts).values({ userId: a, contactId: "G00000000000", contactType: 1, status: 0 });
    await expectAppError(getContactInfo(t.ctx, a, { contactId: "G00000000000" }), "NOT_FOUND", "联系人不存在");
  });
});
