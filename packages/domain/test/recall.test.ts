import { conversations, groups, messages, queryRows, streamTicks } from "@omnilink/db";
import { createTestDb, type TestDb } from "@omnilink/db/testing";
import { and, arrayOverlaps, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenService } from "../src/auth/tokens.js";
import { deleteFriend } from "../src/contacts/friends.js";
import type { DomainContext } from "../src/context.js";
import { createDomain } from "../src/create.js";
import { AppError } from "../src/errors.js";
import { leaveGroup, removeMembers, setGroupAdmin, setMemberMuted } from "../src/groups/index.js";
import { listHistory, listHistoryPage } from "../src/messages/history.js";
import { RECALLED_PREVIEW } from "../src/messages/preview.js";
import { recallMessage, RecallErrors } from "../src/messages/recall.js";
import { createMemoryBus } from "../src/realtime/bus.js";
import type { StreamItem } from "../src/realtime/events.js";
import { positionOf } from "../src/realtime/positions.js";
import { listSessions } from "../src/sessions/list.js";
import { collect, eventsSince, friendsWithSessions, groupWith, send, settle, streamMark } from "./fixtures.js";
import { expectAppError, TEST_SCRYPT_COST, useTestContext } from "./helpers.js";

const t = useTestContext({ groupSendBurst: 10_000, groupSendPerSecond: 10_000, groupSendMemberShare: 1 });

const recall = (ctx: DomainContext, userId: string, messageId: string) => recallMessage(ctx, userId, { messageId });

/** Appoints an admin through the owner's API. */
async function makeAdmin(ctx: DomainContext, userId: string, groupId: string): Promise<void> {
  const [owner] = await ctx.db.select({ ownerId: groups.ownerId }).from(groups).where(eq(groups.uuid, groupId));
  await setGroupAdmin(ctx, owner!.ownerId, { groupId, userId, admin: true });
}

/** Moves a message's send time into the past, past any recall window. */
async function age(ctx: DomainContext, messageId: string, minutes = 3): Promise<void> {
  await ctx.db
    .update(messages)
    .set({ createdAt: sql`now() - make_interval(mins => ${minutes})` })
    .where(eq(messages.uuid, messageId));
}

async function preview(ctx: DomainContext, conversationId: string): Promise<string | undefined> {
  const [row] = await ctx.db.select({ last: conversations.lastMessage }).from(conversations).where(eq(conversations.id, conversationId));
  return row?.last;
}

describe("recall by the sender", () => {
  it("erases the content in place, shows the marker on every read path, tells the group once", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 2);
    const [alice = "", bob = ""] = members;
    await send(t.ctx, owner, groupId, "before");
    const { message } = await send(t.ctx, alice, groupId, "secret @bob", { mentionedUserIds: [bob], url: "http://x/y", fileName: "f.txt" });
    expect(await preview(t.ctx, groupId)).toBe("secret @bob");
    const mark = await streamMark(t.ctx);

    const result = await recall(t.ctx, alice, message.uuid);
    expect(result.changed).toBe(true);
    expect(result.message).toMatchObject({
      id: message.id,
      uuid: message.uuid,
      seq: message.seq,
      content: "",
      url: "",
      fileName: "",
      mentionedUserIds: [],
      mentionAll: false,
      recalledBy: alice,
    });
    expect(result.message.recalledAt).toBeInstanceOf(Date);
    expect(await eventsSince(t.ctx, mark)).toEqual([
      { type: "message.recalled", groupId, userIds: [], payload: { messageId: message.uuid, conversationId: groupId, seq: message.seq, by: alice } },
    ]);

    // Cursor history, legacy page history: same id, seq and place, no content, the marker fields.
    const page = await listHistory(t.ctx, bob, { peerId: groupId, limit: 50 });
    expect(page.items.map((m) => [m.seq, m.content, m.recalledBy])).toEqual([
      [1, "before", null],
      [2, "", alice],
    ]);
    const legacy = await listHistoryPage(t.ctx, owner, { peerId: groupId, page: 1, pageSize: 20 });
    expect(legacy.map((m) => [m.uuid, m.content, m.recalledAt !== null])).toEqual([
      [page.items[0]?.uuid, "before", false],
      [message.uuid, "", true],
    ]);
    // The preview was this message: it becomes the marker, for every member.
    expect(await preview(t.ctx, groupId)).toBe(RECALLED_PREVIEW);
    const sessions = await listSessions(t.ctx, bob, { kind: "group" });
    expect(sessions.find((s) => s.peerId === groupId)?.lastMessage).toBe(RECALLED_PREVIEW);
    // Nothing of the text is left in the row.
    const [row] = await t.ctx.db.select().from(messages).where(eq(messages.uuid, message.uuid));
    expect(row).toMatchObject({ content: "", url: "", fileName: "", mentionedUserIds: [], recalledBy: alice });

    // Twice: the same answer, no second event, nothing changed.
    const again = await recall(t.ctx, alice, message.uuid);
    expect(again).toMatchObject({ changed: false, message: { uuid: message.uuid, recalledBy: alice } });
    expect(again.message.recalledAt?.getTime()).toBe(result.message.recalledAt?.getTime());
    expect(await eventsSince(t.ctx, mark)).toHaveLength(1);
  });

  it("leaves the preview alone when a later message is the last one", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    const { message } = await send(t.ctx, members[0]!, groupId, "first");
    await send(t.ctx, owner, groupId, "second");
    await recall(t.ctx, members[0]!, message.uuid);
    expect(await preview(t.ctx, groupId)).toBe("second");
  });

  it("only within the recall window, only their own, only while a member (muted members may)", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 4);
    const [alice = "", bob = "", muted = "", leaver = ""] = members;
    const old = (await send(t.ctx, alice, groupId, "old")).message;
    await age(t.ctx, old.uuid);
    await expectAppError(recall(t.ctx, alice, old.uuid), "FORBIDDEN", RecallErrors.tooLate(t.ctx.limits.recallWindowMs).message);
    expect(RecallErrors.tooLate(120_000).message).toBe("消息发送超过 2 分钟，无法撤回");

    const fresh = (await send(t.ctx, alice, groupId, "fresh")).message;
    await expectAppError(recall(t.ctx, bob, fresh.uuid), "FORBIDDEN", "只能撤回自己的消息");

    const mutedOwn = (await send(t.ctx, muted, groupId, "said before the mute")).message;
    await setMemberMuted(t.ctx, owner, { groupId, userId: muted, muted: true });
    expect((await recall(t.ctx, muted, mutedOwn.uuid)).changed).toBe(true);

    const leaverOwn = (await send(t.ctx, leaver, groupId, "said before leaving")).message;
    await leaveGroup(t.ctx, leaver, groupId);
    await expectAppError(recall(t.ctx, leaver, leaverOwn.uuid), "FORBIDDEN", "非群成员，无法撤回消息");

    const kickedOwn = (await send(t.ctx, bob, groupId, "said before the kick")).message;
    await removeMembers(t.ctx, owner, { groupId, memberIds: [bob] });
    await expectAppError(recall(t.ctx, bob, kickedOwn.uuid), "FORBIDDEN", "非群成员，无法撤回消息");
    // Even an already recalled message is not shown to those who left.
    await expectAppError(recall(t.ctx, leaver, mutedOwn.uuid), "FORBIDDEN");

    const stranger = (await groupWith(t.ctx, 0)).owner;
    await expectAppError(recall(t.ctx, stranger, fresh.uuid), "FORBIDDEN", "非群成员，无法撤回消息");
    await expectAppError(recall(t.ctx, alice, "Mnosuchmessage"), "NOT_FOUND", "消息不存在");
    expect((await listHistory(t.ctx, owner, { peerId: groupId, limit: 50 })).items.filter((m) => m.recalledAt).map((m) => m.uuid)).toEqual([
      mutedOwn.uuid,
    ]);
  });

  it("in a dismissed group, nobody recalls", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    const { message } = await send(t.ctx, members[0]!, groupId, "x");
    const { dismissGroup } = await import("../src/groups/index.js");
    await dismissGroup(t.ctx, owner, groupId);
    await expectAppError(recall(t.ctx, owner, message.uuid), "FORBIDDEN");
    await expectAppError(recall(t.ctx, members[0]!, message.uuid), "FORBIDDEN");
  });
});

describe("recall by the owner and admins", () => {
  it("the owner recalls anyone's message at any time; an admin an ordinary member's, never the owner's or another admin's", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 4);
    const [admin = "", admin2 = "", plain = "", plain2 = ""] = members;
    await makeAdmin(t.ctx, admin, groupId);
    await makeAdmin(t.ctx, admin2, groupId);
    const said = async (who: string, text: string) => {
      const { message } = await send(t.ctx, who, groupId, text);
      await age(t.ctx, message.uuid, 60);
      return message.uuid;
    };
    const byOwner = await said(owner, "owner's");
    const byAdmin = await said(admin, "admin's");
    const byAdmin2 = await said(admin2, "admin2's");
    const byPlain = await said(plain, "plain's");
    const byPlain2 = await said(plain2, "plain2's");

    // An ordinary member: never another's.
    await expectAppError(recall(t.ctx, plain2, byPlain), "FORBIDDEN", "只能撤回自己的消息");
    // An admin: an ordinary member's, an hour later too; not the owner's, not another admin's.
    expect((await recall(t.ctx, admin, byPlain)).message.recalledBy).toBe(admin);
    await expectAppError(recall(t.ctx, admin, byOwner), "FORBIDDEN", "管理员只能撤回普通成员的消息");
    await expectAppError(recall(t.ctx, admin, byAdmin2), "FORBIDDEN", "管理员只能撤回普通成员的消息");
    // Their own, like anyone: within the window only.
    await expectAppError(recall(t.ctx, admin, byAdmin), "FORBIDDEN", RecallErrors.tooLate(t.ctx.limits.recallWindowMs).message);
    // The owner: anything, their own included, at any time.
    for (const id of [byOwner, byAdmin, byAdmin2, byPlain2]) expect((await recall(t.ctx, owner, id)).message.recalledBy).toBe(owner);

    // An admin who was removed is an ordinary ex-member: refused.
    const byPlainAgain = await said(plain, "again");
    await removeMembers(t.ctx, owner, { groupId, memberIds: [admin] });
    await expectAppError(recall(t.ctx, admin, byPlainAgain), "FORBIDDEN", "非群成员，无法撤回消息");
    // A demoted admin's messages are ordinary again.
    const byAdmin2Again = await said(admin2, "admin2 again");
    await makeAdmin(t.ctx, plain2, groupId);
    await expectAppError(recall(t.ctx, plain2, byAdmin2Again), "FORBIDDEN", "管理员只能撤回普通成员的消息");
    await setGroupAdmin(t.ctx, owner, { groupId, userId: admin2, admin: false });
    expect((await recall(t.ctx, plain2, byAdmin2Again)).changed).toBe(true);
  });
});

describe("private recall", () => {
  it("the sender only, within the window, while friends; both parties are told", async () => {
    const { a, b } = await friendsWithSessions(t.ctx);
    const conversationId = a < b ? `${a}:${b}` : `${b}:${a}`;
    const first = (await send(t.ctx, a, b, "hello b")).message;
    const second = (await send(t.ctx, a, b, "take this back")).message;
    const mark = await streamMark(t.ctx);
    await expectAppError(recall(t.ctx, b, second.uuid), "FORBIDDEN", "只能撤回自己的消息");
    const outsider = (await friendsWithSessions(t.ctx)).a;
    await expectAppError(recall(t.ctx, outsider, second.uuid), "NOT_FOUND", "消息不存在");

    expect((await recall(t.ctx, a, second.uuid)).changed).toBe(true);
    const events = await eventsSince(t.ctx, mark);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "message.recalled", groupId: null, payload: { messageId: second.uuid, conversationId, seq: 2, by: a } });
    expect([...(events[0]?.userIds ?? [])].sort()).toEqual([a, b].sort());
    expect(await preview(t.ctx, conversationId)).toBe(RECALLED_PREVIEW);
    expect((await listHistory(t.ctx, b, { peerId: a, limit: 10 })).items.map((m) => [m.content, m.recalledBy])).toEqual([
      ["hello b", null],
      ["", a],
    ]);

    await age(t.ctx, first.uuid);
    await expectAppError(recall(t.ctx, a, first.uuid), "FORBIDDEN", RecallErrors.tooLate(t.ctx.limits.recallWindowMs).message);

    const third = (await send(t.ctx, a, b, "third")).message;
    await deleteFriend(t.ctx, b, { friendId: a });
    await expectAppError(recall(t.ctx, a, third.uuid), "FORBIDDEN", "非好友关系，无法撤回消息");
  });
});

describe("live recall events across two nodes", () => {
  let db: TestDb;
  let node1: DomainContext & { stop(): Promise<void> };
  let node2: DomainContext & { stop(): Promise<void> };
  beforeAll(async () => {
    db = await createTestDb();
    const bus = createMemoryBus();
    const tokens = createTokenService({ secret: "y".repeat(32), issuer: "OmniLink", expireHours: 1 });
    node1 = await createDomain({ db: db.db, tokens, bus, scryptCost: TEST_SCRYPT_COST });
    node2 = await createDomain({ db: db.db, tokens, bus, scryptCost: TEST_SCRYPT_COST });
  });
  afterAll(async () => {
    await node1.stop();
    await node2.stop();
    await db.dispose();
  });

  const shape = (i: StreamItem) => (i.kind === "message" ? `msg:${i.message.content}` : `${i.event.type}:${JSON.stringify(i.event.payload)}`);

  it("a recall on one node reaches the group's members and both private parties on the other, after the message; replay shows the marker", async () => {
    const { owner, members, groupId } = await groupWith(node1, 1);
    const member = members[0]!;
    const outsider = (await groupWith(node1, 0)).owner;
    const { a, b } = await friendsWithSessions(node1);
    const live = collect(node2, member);
    const liveB = collect(node2, b);
    const liveOutsider = collect(node2, outsider);
    await settle();
    const start = await node1.ticker.kick();
    const g = (await send(node1, owner, groupId, "oops")).message;
    const p = (await send(node1, a, b, "private oops")).message;
    await recall(node1, owner, g.uuid);
    await recall(node1, a, p.uuid);
    const payload = (m: typeof g) => JSON.stringify({ messageId: m.uuid, conversationId: m.conversationId, seq: m.seq, by: m.sendId });
    expect((await live.until(2)).map(shape)).toEqual(["msg:oops", `message.recalled:${payload(g)}`]);
    expect((await liveB.until(2)).map(shape)).toEqual(["msg:private oops", `message.recalled:${payload(p)}`]);
    await settle(300);
    expect(live.items).toHaveLength(2);
    expect(liveOutsider.items).toHaveLength(0);

    // A subscriber resuming from before the send replays the message as it is now: recalled.
    const replay = collect(node2, member, start);
    const items = await replay.until(2);
    const first = items[0];
    expect(first?.kind === "message" && [first.message.uuid, first.message.content, first.message.recalledBy]).toEqual([g.uuid, "", owner]);
    expect(items[1]?.kind === "event" && items[1].event.type).toBe("message.recalled");
    for (const s of [live, liveB, liveOutsider, replay]) await s.stop();
  });
});

/**
 * Races (they matter on PostgreSQL, where the transactions really overlap): the recall rule is
 * read under the lock the change that would break it takes. The stream is where the order shows:
 * a recall that succeeded must come before the event that took the right away, or a client would
 * see an ex-member (or ex-friend) recall after they were gone.
 */
describe("recall races", () => {
  /** Stream positions of these rows, once ticked. */
  async function positions(ctx: DomainContext, ids: number[]): Promise<Map<number, number>> {
    await ctx.ticker.kick();
    const ticks = await ctx.db.select().from(streamTicks).where(arrayOverlaps(streamTicks.itemIds, ids));
    const found = new Map<number, number>();
    for (const tick of ticks) tick.itemIds.forEach((id, k) => ids.includes(id) && found.set(id, positionOf(Number(tick.tick), k + 1)));
    return found;
  }

  async function eventId(ctx: DomainContext, type: string, mark: number, match: (payload: Record<string, unknown>) => boolean): Promise<number> {
    const list = await queryRows<{ id: string; payload: Record<string, unknown> }>(
      ctx.db,
      sql`select id, payload from stream_event where type = ${type} and id > ${mark} order by id`,
    );
    const row = list.find((r) => match(r.payload));
    if (!row) throw new Error(`no ${type} event`);
    return Number(row.id);
  }

  function onlyRefusals(results: PromiseSettledResult<unknown>[]): void {
    const unexpected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected" && !(r.reason instanceof AppError));
    expect(unexpected.map((r) => String(r.reason))).toEqual([]);
  }

  it("a member removed while recalling their own message: the recall is refused or comes before the removal", async () => {
    const rounds = 25;
    const setups = [];
    for (let i = 0; i < rounds; i++) {
      const { owner, members, groupId } = await groupWith(t.ctx, 1);
      const { message } = await send(t.ctx, members[0]!, groupId, `mine ${i}`);
      setups.push({ owner, member: members[0]!, groupId, message });
    }
    const mark = await streamMark(t.ctx);
    const results = await Promise.allSettled(
      setups.flatMap((s) => [recall(t.ctx, s.member, s.message.uuid), removeMembers(t.ctx, s.owner, { groupId: s.groupId, memberIds: [s.member] })]),
    );
    onlyRefusals(results);
    let recalled = 0;
    for (const [i, s] of setups.entries()) {
      const r = results[2 * i];
      expect(results[2 * i + 1]?.status).toBe("fulfilled");
      const removal = await eventId(t.ctx, "member.removed", mark, (p) => (p.userIds as string[]).includes(s.member));
      if (r?.status === "rejected") {
        expect((r.reason as AppError).message).toBe("非群成员，无法撤回消息");
        continue;
      }
      recalled++;
      const recallEvent = await eventId(t.ctx, "message.recalled", mark, (p) => p.messageId === s.message.uuid);
      const pos = await positions(t.ctx, [recallEvent, removal]);
      expect(pos.get(recallEvent)!, `round ${i}: the recall must precede the removal`).toBeLessThan(pos.get(removal)!);
    }
    expect(recalled + (rounds - recalled)).toBe(rounds);
  });

  it("an admin removed while recalling an ordinary member's message: refused or before the removal", async () => {
    const rounds = 40;
    const setups = [];
    for (let i = 0; i < rounds; i++) {
      const { owner, members, groupId } = await groupWith(t.ctx, 2);
      const [admin = "", plain = ""] = members;
      await makeAdmin(t.ctx, admin, groupId);
      const { message } = await send(t.ctx, plain, groupId, `plain ${i}`);
      await age(t.ctx, message.uuid, 10);
      setups.push({ owner, admin, groupId, message });
    }
    const mark = await streamMark(t.ctx);
    const results = await Promise.allSettled(
      setups.flatMap((s) => [recall(t.ctx, s.admin, s.message.uuid), removeMembers(t.ctx, s.owner, { groupId: s.groupId, memberIds: [s.admin] })]),
    );
    onlyRefusals(results);
    for (const [i, s] of setups.entries()) {
      const r = results[2 * i];
      const removal = await eventId(t.ctx, "member.removed", mark, (p) => (p.userIds as string[]).includes(s.admin));
      if (r?.status === "rejected") continue;
      const recallEvent = await eventId(t.ctx, "message.recalled", mark, (p) => p.messageId === s.message.uuid);
      const pos = await positions(t.ctx, [recallEvent, removal]);
      expect(pos.get(recallEvent)!, `round ${i}: the recall must precede the removal`).toBeLessThan(pos.get(removal)!);
    }
  });

  it("an admin revoked while recalling an ordinary member's message: refused or before the revocation", async () => {
    const rounds = 40;
    const setups = [];
    for (let i = 0; i < rounds; i++) {
      const { owner, members, groupId } = await groupWith(t.ctx, 2);
      const [admin = "", plain = ""] = members;
      await setGroupAdmin(t.ctx, owner, { groupId, userId: admin, admin: true });
      const { message } = await send(t.ctx, plain, groupId, `plain ${i}`);
      await age(t.ctx, message.uuid, 10);
      setups.push({ owner, admin, groupId, message });
    }
    const mark = await streamMark(t.ctx);
    const results = await Promise.allSettled(
      setups.flatMap((s) => [recall(t.ctx, s.admin, s.message.uuid), setGroupAdmin(t.ctx, s.owner, { groupId: s.groupId, userId: s.admin, admin: false })]),
    );
    onlyRefusals(results);
    for (const [i, s] of setups.entries()) {
      const r = results[2 * i];
      expect(results[2 * i + 1]?.status).toBe("fulfilled");
      const revocation = await eventId(t.ctx, "member.role", mark, (p) => p.userId === s.admin && p.role === "member");
      if (r?.status === "rejected") {
        expect((r.reason as AppError).message).toBe("只能撤回自己的消息");
        continue;
      }
      const recallEvent = await eventId(t.ctx, "message.recalled", mark, (p) => p.messageId === s.message.uuid);
      const pos = await positions(t.ctx, [recallEvent, revocation]);
      expect(pos.get(recallEvent)!, `round ${i}: the recall must precede the revocation`).toBeLessThan(pos.get(revocation)!);
    }
  });

  it("a friend deleted while the other recalls: refused or before the deletion", async () => {
    const rounds = 25;
    const setups = [];
    for (let i = 0; i < rounds; i++) {
      const { a, b } = await friendsWithSessions(t.ctx);
      const { message } = await send(t.ctx, a, b, `p ${i}`);
      setups.push({ a, b, message });
    }
    const mark = await streamMark(t.ctx);
    const results = await Promise.allSettled(setups.flatMap((s) => [recall(t.ctx, s.a, s.message.uuid), deleteFriend(t.ctx, s.b, { friendId: s.a })]));
    onlyRefusals(results);
    for (const [i, s] of setups.entries()) {
      const r = results[2 * i];
      const removal = await eventId(t.ctx, "friend.removed", mark, (p) => p.by === s.b && p.userId === s.a);
      if (r?.status === "rejected") {
        expect((r.reason as AppError).message).toBe("非好友关系，无法撤回消息");
        continue;
      }
      const recallEvent = await eventId(t.ctx, "message.recalled", mark, (p) => p.messageId === s.message.uuid);
      const pos = await positions(t.ctx, [recallEvent, removal]);
      expect(pos.get(recallEvent)!, `round ${i}: the recall must precede the deletion`).toBeLessThan(pos.get(removal)!);
    }
  });

  /**
   * The same races made certain on PostgreSQL: a transaction holds the message's row lock, so the
   * recall stops at its UPDATE, after it has read the rule; the change that takes the right away
   * then gets its chance before the row is released. Under the group or pair lock the change waits
   * for the recall instead. (PGlite runs one transaction at a time: there the calls simply run in
   * turn, and the same order must hold.)
   */
  const onPostgres = process.env.DATABASE_URL !== undefined;
  async function raceWithRowHeld(messageId: string, recallCall: () => Promise<unknown>, change: () => Promise<unknown>) {
    if (!onPostgres) return Promise.allSettled([recallCall(), change()]);
    let release = () => {};
    const released = new Promise<void>((r) => (release = r));
    let held = () => {};
    const isHeld = new Promise<void>((r) => (held = r));
    const holder = t.ctx.db.transaction(async (tx) => {
      await tx.select({ id: messages.id }).from(messages).where(eq(messages.uuid, messageId)).for("update");
      held();
      await released;
    });
    await isHeld;
    const r = recallCall();
    await settle(300);
    const c = change();
    await settle(300);
    release();
    await holder;
    return Promise.allSettled([r, c]);
  }

  it("with the message row held: a recall is never ordered after the change that took its right away", async () => {
    const cases: Array<{ name: string; setup: () => Promise<{ recallCall: () => Promise<unknown>; change: () => Promise<unknown>; messageId: string; changeEvent: [string, (p: Record<string, unknown>) => boolean] }> }> = [
      {
        name: "sender removed",
        setup: async () => {
          const { owner, members, groupId } = await groupWith(t.ctx, 1);
          const m = members[0]!;
          const { message } = await send(t.ctx, m, groupId, "mine");
          return {
            messageId: message.uuid,
            recallCall: () => recall(t.ctx, m, message.uuid),
            change: () => removeMembers(t.ctx, owner, { groupId, memberIds: [m] }),
            changeEvent: ["member.removed", (p) => (p.userIds as string[]).includes(m)],
          };
        },
      },
      {
        name: "admin revoked",
        setup: async () => {
          const { owner, members, groupId } = await groupWith(t.ctx, 2);
          const [admin = "", plain = ""] = members;
          await makeAdmin(t.ctx, admin, groupId);
          const { message } = await send(t.ctx, plain, groupId, "plain");
          await age(t.ctx, message.uuid, 10);
          return {
            messageId: message.uuid,
            recallCall: () => recall(t.ctx, admin, message.uuid),
            change: () => setGroupAdmin(t.ctx, owner, { groupId, userId: admin, admin: false }),
            changeEvent: ["member.role", (p) => p.userId === admin && p.role === "member"],
          };
        },
      },
      {
        name: "friend deleted",
        setup: async () => {
          const { a, b } = await friendsWithSessions(t.ctx);
          const { message } = await send(t.ctx, a, b, "p");
          return {
            messageId: message.uuid,
            recallCall: () => recall(t.ctx, a, message.uuid),
            change: () => deleteFriend(t.ctx, b, { friendId: a }),
            changeEvent: ["friend.removed", (p) => p.by === b && p.userId === a],
          };
        },
      },
    ];
    for (const c of cases) {
      const { messageId, recallCall, change, changeEvent } = await c.setup();
      const mark = await streamMark(t.ctx);
      const results = await raceWithRowHeld(messageId, recallCall, change);
      onlyRefusals(results);
      expect(results[1]?.status, c.name).toBe("fulfilled");
      const changeId = await eventId(t.ctx, changeEvent[0], mark, changeEvent[1]);
      if (results[0]?.status === "rejected") continue;
      const recallEvent = await eventId(t.ctx, "message.recalled", mark, (p) => p.messageId === messageId);
      const pos = await positions(t.ctx, [recallEvent, changeId]);
      expect.soft(pos.get(recallEvent)!, `${c.name}: the recall must precede the change`).toBeLessThan(pos.get(changeId)!);
    }
  });

  it("recalls racing with sends: the preview is always the last message's (the marker if it is recalled), never recalled text", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 3);
    const senders = [owner, ...members];
    const sent = [];
    for (let i = 0; i < 8; i++) sent.push((await send(t.ctx, senders[i % senders.length]!, groupId, `early ${i}`)).message);
    for (let round = 0; round < 10; round++) {
      const last = (await send(t.ctx, members[0]!, groupId, `last ${round}`)).message;
      await Promise.all([
        recall(t.ctx, members[0]!, last.uuid),
        recall(t.ctx, owner, sent[round % sent.length]!.uuid),
        ...senders.map((s, k) => send(t.ctx, s, groupId, `race ${round}.${k}`)),
      ]);
      const [conv] = await t.ctx.db.select().from(conversations).where(eq(conversations.id, groupId));
      const [newest] = await t.ctx.db.select().from(messages).where(and(eq(messages.conversationId, groupId), eq(messages.seq, conv!.lastSeq)));
      expect(conv?.lastMessageId).toBe(newest?.uuid);
      expect(conv?.lastMessage).toBe(newest?.recalledAt ? RECALLED_PREVIEW : newest?.content);
      expect(conv?.lastMessage).not.toMatch(/^last /);
    }
  });
});
