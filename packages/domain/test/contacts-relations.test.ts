import { ApplyStatus, contactApplies, contacts, groups, streamEvents, users } from "@omnilink/db";
import { and, asc, eq, gt } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
import type { DomainContext } from "../src/context.js";
import { AppError, type ErrorKind } from "../src/errors.js";
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

/** Both rows' statuses: [a→b, b→a], undefined where a row is missing. */
const pair = async (a: string, b: string) => [await friendship(ctx.db, a, b), await friendship(ctx.db, b, a)];

async function friends(): Promise<[string, string]> {
  const a = await newUser(ctx, "fa");
  const b = await newUser(ctx, "fb");
  const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "" });
  await approveFriend(ctx, b, applyId);
  return [a, b];
}

describe("deleteFriend", () => {
  it("marks my row deleted and theirs deleted-by-friend, tells both, and lets either apply again", async () => {
    const [a, b] = await friends();
    const before = await lastEventId();
    expect(await deleteFriend(ctx, a, { friendId: b })).toEqual({ changed: true });
    expect(await pair(a, b)).toEqual([3, 4]);
    expect(await listFriends(ctx, a)).toEqual([]);
    expect(await listFriends(ctx, b)).toEqual([]);
    expect(await eventsAfter(before)).toEqual([{ type: "friend.removed", groupId: null, userIds: [a, b], payload: { by: a, userId: b } }]);

    // Repeating is a no-op; the other side can no longer delete what is gone.
    expect(await deleteFriend(ctx, a, { friendId: b })).toEqual({ changed: false });
    await expectError(deleteFriend(ctx, b, { friendId: a }), "BAD_REQUEST", "非好友关系");

    const { applyId } = await applyFriend(ctx, b, { targetId: a, message: "again" });
    await approveFriend(ctx, a, applyId);
    expect(await pair(a, b)).toEqual([0, 0]);
  });

  it("refuses a non-friend and bad input", async () => {
    const a = await newUser(ctx, "da");
    const b = await newUser(ctx, "db");
    await expectError(deleteFriend(ctx, a, { friendId: b }), "BAD_REQUEST", "非好友关系");
    await expectError(deleteFriend(ctx, a, { friendId: "" }), "BAD_REQUEST", "参数错误");
    expect(await pair(a, b)).toEqual([undefined, undefined]);
  });
});

describe("blockContact / unblockContact", () => {
  it("blocks a friend and restores the friendship on unblock", async () => {
    const [a, b] = await friends();
    const before = await lastEventId();
    expect(await blockContact(ctx, a, { targetId: b })).toEqual({ changed: true });
    expect(await pair(a, b)).toEqual([1, 2]);
    expect(await blockContact(ctx, a, { targetId: b })).toEqual({ changed: false });
    expect(await listFriends(ctx, a)).toEqual([]);
    await expectError(applyFriend(ctx, b, { targetId: a, message: "" }), "FORBIDDEN", "对方已将您拉黑");
    await expectError(applyFriend(ctx, a, { targetId: b, message: "" }), "BAD_REQUEST", "您已将对方拉黑");
    await expectError(deleteFriend(ctx, a, { friendId: b }), "BAD_REQUEST", "非好友关系");
    // Only the blocker can lift it.
    await expectError(unblockContact(ctx, b, { targetId: a }), "BAD_REQUEST", "未拉黑对方");

    expect(await unblockContact(ctx, a, { targetId: b })).toEqual({ changed: true });
    expect(await pair(a, b)).toEqual([0, 0]);
    expect((await listFriends(ctx, a)).map((f) => f.userId)).toEqual([b]);
    // Blocking is not announced to the blocked user.
    expect(await eventsAfter(before)).toEqual([]);
  });

  it("blocks a stranger without ever making them a friend", async () => {
    const me = await newUser(ctx, "sm");
    const spammer = await newUser(ctx, "ss");
    const { applyId } = await applyFriend(ctx, spammer, { targetId: me, message: "spam" });
    expect(await blockContact(ctx, me, { targetId: spammer })).toEqual({ changed: true });
    expect(await pair(me, spammer)).toEqual([1, 2]);
    // Their pending request is answered by the block and cannot be approved or renewed.
    const [apply] = await ctx.db.select().from(contactApplies).where(eq(contactApplies.uuid, applyId));
    expect(apply).toMatchObject({ status: ApplyStatus.blacklisted, decidedBy: me });
    expect(await listPendingApplies(ctx, me)).toEqual([]);
    await expectError(approveFriend(ctx, me, applyId), "FORBIDDEN", "该申请已被拉黑");
    await expectError(applyFriend(ctx, spammer, { targetId: me, message: "again" }), "FORBIDDEN", "对方已将您拉黑");

    expect(await unblockContact(ctx, me, { targetId: spammer })).toEqual({ changed: true });
    expect(await pair(me, spammer)).toEqual([undefined, undefined]);
    expect(await listFriends(ctx, me)).toEqual([]);
    const [after] = await ctx.db.select().from(contactApplies).where(eq(contactApplies.uuid, applyId));
    expect(after?.status).toBe(ApplyStatus.rejected);
    // After the unblock they may ask again, through the same request row.
    expect((await applyFriend(ctx, spammer, { targetId: me, message: "sorry" })).applyId).toBe(applyId);
  });

  it("marks a stranger block even when the blocked user never applied", async () => {
    const me = await newUser(ctx, "km");
    const other = await newUser(ctx, "ko");
    await blockContact(ctx, me, { targetId: other });
    expect(await ctx.db.$count(contactApplies, and(eq(contactApplies.userId, other), eq(contactApplies.contactId, me)))).toBe(1);
    await unblockContact(ctx, me, { targetId: other });
    expect(await pair(me, other)).toEqual([undefined, undefined]);
    expect(await listPendingApplies(ctx, me)).toEqual([]);
  });

  it("keeps each side's block when both block, and restores friends only when both lift them", async () => {
    const [a, b] = await friends();
    await blockContact(ctx, a, { targetId: b });
    await blockContact(ctx, b, { targetId: a });
    expect(await pair(a, b)).toEqual([1, 1]);
    await unblockContact(ctx, a, { targetId: b });
    expect(await pair(a, b)).toEqual([2, 1]);
    await unblockContact(ctx, b, { targetId: a });
    expect(await pair(a, b)).toEqual([0, 0]);
  });

  it("leaves strangers who both blocked each other strangers", async () => {
    const a = await newUser(ctx, "ua");
    const b = await newUser(ctx, "ub");
    await blockContact(ctx, a, { targetId: b });
    await blockContact(ctx, b, { targetId: a });
    await unblockContact(ctx, b, { targetId: a });
    expect(await pair(a, b)).toEqual([1, 2]);
    await unblockContact(ctx, a, { targetId: b });
    expect(await pair(a, b)).toEqual([undefined, undefined]);
  });

  it("refuses self, unknown users and unblocking someone not blocked", async () => {
    const a = await newUser(ctx, "ra");
    const b = await newUser(ctx, "rb");
    await expectError(blockContact(ctx, a, { targetId: a }), "BAD_REQUEST", "不能拉黑自己");
    await expectError(blockContact(ctx, a, { targetId: "" }), "BAD_REQUEST", "参数错误");
    await expectError(blockContact(ctx, a, { targetId: "U00000000000" }), "NOT_FOUND", "用户不存在");
    await expectError(unblockContact(ctx, a, { targetId: b }), "BAD_REQUEST", "未拉黑对方");
    await expectError(unblockContact(ctx, a, { targetId: a }), "BAD_REQUEST", "未拉黑对方");
    await expectError(unblockContact(ctx, a, { targetId: " " }), "BAD_REQUEST", "参数错误");
  });

  it("serialises a block and an approval racing on one pair", async () => {
    const a = await newUser(ctx, "ca");
    const b = await newUser(ctx, "cb");
    const { applyId } = await applyFriend(ctx, a, { targetId: b, message: "" });
    const [approved, blocked] = await Promise.allSettled([approveFriend(ctx, b, applyId), blockContact(ctx, b, { targetId: a })]);
    expect(blocked.status).toBe("fulfilled");
    // Whichever ran first, the block stands at the end.
    expect(await pair(b, a)).toEqual([1, 2]);
    if (approved.status === "rejected") expect((approved.reason as AppError).message).toBe("该申请已被拉黑");
    await unblockContact(ctx, b, { targetId: a });
    // Friends again only if the approval had won.
    expect(await pair(b, a)).toEqual(approved.status === "fulfilled" ? [0, 0] : [undefined, undefined]);
  });
});

describe("concurrency on one pair", () => {
  it("blocks, applies and approvals from both sides at once end consistent, without deadlocks", async () => {
    const a = await newUser(ctx, "xa");
    const b = await newUser(ctx, "xb");
    const first = await applyFriend(ctx, a, { targetId: b, message: "" });
    const results = await Promise.allSettled([
      blockContact(ctx, a, { targetId: b }),
      blockContact(ctx, b, { targetId: a }),
      applyFriend(ctx, a, { targetId: b, message: "" }),
      applyFriend(ctx, b, { targetId: a, message: "" }),
      approveFriend(ctx, b, first.applyId),
      deleteFriend(ctx, a, { friendId: b }),
    ]);
    // Every refusal is a business error, never a deadlock or a constraint violation.
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(AppError);
    expect(results.slice(0, 2).map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(await pair(a, b)).toEqual([1, 1]);
    await unblockContact(ctx, a, { targetId: b });
    await unblockContact(ctx, b, { targetId: a });
    const end = await pair(a, b);
    // Friends if the approval ran before both blocks, strangers otherwise.
    expect([JSON.stringify([0, 0]), JSON.stringify([undefined, undefined])]).toContain(JSON.stringify(end));
  });
});

describe("getContactInfo", () => {
  it("shows a friend's profile", async () => {
    const [a, b] = await friends();
    await ctx.db.update(users).set({ signature: "sig", gender: 1, birthday: "20000102" }).where(eq(users.uuid, b));
    const [p] = await ctx.db.select().from(users).where(eq(users.uuid, b));
    expect(await getContactInfo(ctx, a, { contactId: b })).toEqual({
      contactId: b,
      name: p!.nickname,
      avatar: p!.avatar,
      signature: "sig",
      gender: 1,
      birthday: "20000102",
      kind: "user",
    });
    await ctx.db.update(users).set({ nickname: "" }).where(eq(users.uuid, b));
    expect((await getContactInfo(ctx, a, { contactId: b })).name).toBe(p!.username);
  });

  it("shows a group I belong to with its real name and avatar", async () => {
    const owner = await newUser(ctx, "go");
    const member = await newUser(ctx, "gm");
    const outsider = await newUser(ctx, "gx");
    const group = await createGroup(ctx, owner, { name: "读书会", memberIds: [member] });
    const groupId = group.uuid;
    const [g] = await ctx.db.select().from(groups).where(eq(groups.uuid, groupId));
    expect(await getContactInfo(ctx, member, { contactId: groupId })).toEqual({
      contactId: groupId,
      name: "读书会",
      avatar: g!.avatar,
      signature: "",
      gender: -1,
      birthday: "",
      kind: "group",
    });
    await expectError(getContactInfo(ctx, outsider, { contactId: groupId }), "FORBIDDEN", "无权查看该联系人");
  });

  it("refuses bad input, non-contacts, blocked or deleted contacts, and missing profiles", async () => {
    const [a, b] = await friends();
    const stranger = await newUser(ctx, "is");
    await expectError(getContactInfo(ctx, a, { contactId: "" }), "BAD_REQUEST", "参数错误");
    await expectError(getContactInfo(ctx, a, { contactId: stranger }), "FORBIDDEN", "无权查看该联系人");
    await blockContact(ctx, b, { targetId: a });
    await expectError(getContactInfo(ctx, a, { contactId: b }), "FORBIDDEN", "无权查看该联系人");
    await unblockContact(ctx, b, { targetId: a });
    // A friend row whose user is gone (contact_id has no foreign key).
    const gone = await newUser(ctx, "ig");
    await ctx.db.insert(contacts).values({ userId: a, contactId: gone, contactType: 0, status: 0 });
    await ctx.db.delete(users).where(eq(users.uuid, gone));
    await expectError(getContactInfo(ctx, a, { contactId: gone }), "NOT_FOUND", "联系人不存在");
    // A membership row whose group is gone.
    await ctx.db.insert(contacts).values({ userId: a, contactId: "G00000000000", contactType: 1, status: 0 });
    await expectError(getContactInfo(ctx, a, { contactId: "G00000000000" }), "NOT_FOUND", "联系人不存在");
  });
});
