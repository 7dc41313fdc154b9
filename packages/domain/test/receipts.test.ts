import { createTestDb, type TestDb } from "@omnilink/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenService } from "../src/auth/tokens.js";
import type { DomainContext } from "../src/context.js";
import { createDomain } from "../src/create.js";
import { blockContact, deleteFriend } from "../src/contacts/index.js";
import { leaveGroup } from "../src/groups/leave-remove.js";
import { listHistory } from "../src/messages/history.js";
import { getReadCounts, getReceipts } from "../src/messages/receipts.js";
import { historyInput } from "../src/messages/schemas.js";
import { createMemoryBus, type BusMessage, type EventBus } from "../src/realtime/bus.js";
import type { ReadSignal, ReceiptUpdate } from "../src/realtime/ephemeral.js";
import { userSignals } from "../src/realtime/subscribe.js";
import { markSessionRead } from "../src/sessions/read.js";
import { friendsWithSessions, groupWith, send } from "./fixtures.js";
import { expectAppError, newUser, TEST_SCRYPT_COST } from "./helpers.js";

const INTERVAL = 300;
const LIMITS = { groupSendBurst: 5000, groupSendPerSecond: 5000, groupSendMemberShare: 1, receiptIntervalMs: INTERVAL };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A bus between two nodes: each publication reaches the other node's listeners asynchronously
 * (as over Redis), and the publisher's own listeners at once.
 */
function linkedBuses(): [EventBus, EventBus] {
  const a = createMemoryBus();
  const b = createMemoryBus();
  const cross = (local: EventBus, remote: EventBus): EventBus => ({
    ...local,
    publish(message: BusMessage) {
      local.publish(message);
      setTimeout(() => remote.publish(message), 5);
    },
  });
  return [cross(a, b), cross(b, a)];
}

let db: TestDb;
/** Two nodes on one database. */
let nodeA: DomainContext & { stop(): Promise<void> };
let nodeB: DomainContext & { stop(): Promise<void> };
const t = {
  get ctx() {
    return nodeA;
  },
};

beforeAll(async () => {
  db = await createTestDb();
  const tokens = createTokenService({ secret: "test-secret-0123456789abcdef0123456789", issuer: "OmniLink", expireHours: 24 });
  const [busA, busB] = linkedBuses();
  nodeA = await createDomain({ db: db.db, tokens, bus: busA, scryptCost: TEST_SCRYPT_COST, limits: LIMITS });
  nodeB = await createDomain({ db: db.db, tokens, bus: busB, scryptCost: TEST_SCRYPT_COST, limits: LIMITS });
});
afterAll(async () => {
  await nodeA.stop();
  await nodeB.stop();
  await db.dispose();
});

/**
 * Subscribes `userId` on `node` to the ephemeral events (`live.signals`) alone, and collects the
 * receipt updates among them: that one subscription is enough for group receipts too.
 */
function listen(node: DomainContext, userId: string) {
  const abort = new AbortController();
  const updates: Array<ReceiptUpdate & { at: number }> = [];
  void (async () => {
    for await (const u of userSignals(node, userId, { signal: abort.signal })) if (u.kind === "receipt") updates.push({ ...u, at: Date.now() });
  })();
  return {
    updates,
    stop: () => abort.abort(),
    async until(pred: (u: ReceiptUpdate) => boolean, ms = 3000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const hit = updates.find(pred);
        if (hit) return hit;
        await sleep(10);
      }
      throw new Error(`no matching receipt update in ${ms} ms; got ${JSON.stringify(updates)}`);
    },
  };
}

describe("read receipts (queries)", () => {
  it("count the active members but the sender, from read positions", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 3);
    const [m1, m2, m3] = members as [string, string, string];
    const { message } = await send(t.ctx, owner, groupId, "hello");
    await send(t.ctx, owner, groupId, "more");
    let r = await getReceipts(t.ctx, owner, { messageId: message.uuid, limit: 200 });
    expect([r.readCount, r.unreadCount, r.readers, r.unread.map((u) => u.userId).sort()]).toEqual([0, 3, [], [m1, m2, m3].sort()]);
    await markSessionRead(t.ctx, m1, { peerId: groupId, seq: message.seq });
    // Sending marks what came before as read.
    await send(t.ctx, m2, groupId, "me too");
    r = await getReceipts(t.ctx, owner, { messageId: message.uuid, limit: 200 });
    expect([r.readCount, r.unreadCount, r.readers.map((u) => u.userId).sort(), r.unread.map((u) => u.userId)]).toEqual([2, 1, [m1, m2].sort(), [m3]]);
    expect(r.readers.every((u) => u.name.length > 0)).toBe(true);
    // A member who left no longer counts; lists are capped.
    await leaveGroup(t.ctx, m3, groupId);
    r = await getReceipts(t.ctx, owner, { messageId: message.uuid, limit: 1 });
    expect([r.readCount, r.unreadCount, r.readers.length, r.unread.length, r.truncated]).toEqual([2, 0, 1, 0, true]);
  });

  it("only the sender may ask, and only while a member", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 2);
    const [m1, m2] = members as [string, string];
    const stranger = await newUser(t.ctx, "stranger");
    const { message } = await send(t.ctx, m1, groupId, "mine");
    expect((await getReceipts(t.ctx, m1, { messageId: message.uuid, limit: 10 })).unreadCount).toBe(2);
    await expectAppError(getReceipts(t.ctx, owner, { messageId: message.uuid, limit: 10 }), "FORBIDDEN", "只有发送者可以查看已读状态");
    await expectAppError(getReceipts(t.ctx, stranger, { messageId: message.uuid, limit: 10 }), "FORBIDDEN");
    await expectAppError(getReceipts(t.ctx, m1, { messageId: "Mnope", limit: 10 }), "NOT_FOUND");
    await leaveGroup(t.ctx, m1, groupId);
    await expectAppError(getReceipts(t.ctx, m1, { messageId: message.uuid, limit: 10 }), "FORBIDDEN", "非群成员");
    await expectAppError(getReadCounts(t.ctx, m1, { peerId: groupId, seqs: [message.seq] }), "FORBIDDEN");
    void m2;
  });

  it("read counts of a page: only the caller's own messages", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 3);
    const [m1, m2] = members as [string, string, string];
    const s1 = (await send(t.ctx, owner, groupId, "a")).message.seq;
    const s2 = (await send(t.ctx, m1, groupId, "b")).message.seq;
    const s3 = (await send(t.ctx, owner, groupId, "c")).message.seq;
    await markSessionRead(t.ctx, m2, { peerId: groupId, seq: s1 });
    const r = await getReadCounts(t.ctx, owner, { peerId: groupId, seqs: [s1, s2, s3, s3] });
    // s1: m1 (sent after it) and m2; s3: nobody yet; s2 is m1's, not listed.
    expect(r).toEqual({ members: 3, counts: [{ seq: s1, readCount: 2 }, { seq: s3, readCount: 0 }] });
  });

  it("private: the peer's position shows in history and receipts", async () => {
    const { a, b } = await friendsWithSessions(t.ctx);
    const { message } = await send(t.ctx, a, b, "seen?");
    let page = await listHistory(t.ctx, a, historyInput.parse({ peerId: b }));
    expect(page.peerReadSeq).toBe(0);
    expect((await getReceipts(t.ctx, a, { messageId: message.uuid, limit: 10 })).unread.map((u) => u.userId)).toEqual([b]);
    await markSessionRead(t.ctx, b, { peerId: a });
    page = await listHistory(t.ctx, a, historyInput.parse({ peerId: b }));
    expect(page.peerReadSeq).toBe(message.seq);
    const r = await getReceipts(t.ctx, a, { messageId: message.uuid, limit: 10 });
    expect([r.readCount, r.unreadCount, r.readers.map((u) => u.userId)]).toEqual([1, 0, [b]]);
    await expectAppError(getReceipts(t.ctx, b, { messageId: message.uuid, limit: 10 }), "FORBIDDEN");
    const { owner, groupId } = await groupWith(t.ctx, 0);
    expect((await listHistory(t.ctx, owner, historyInput.parse({ peerId: groupId }))).peerReadSeq).toBeNull();
  });

  it("a private mark needs the friendship, as history does: an ex-friend or a blocked peer is refused and the other side hears nothing", async () => {
    for (const end of ["unfriend", "block"] as const) {
      const { a, b } = await friendsWithSessions(t.ctx);
      const alice = listen(t.ctx, a);
      await sleep(50);
      await send(t.ctx, a, b, "one");
      await send(t.ctx, a, b, "two");
      await markSessionRead(t.ctx, b, { peerId: a, seq: 1 });
      await alice.until((x) => x.peerId === b && x.upToSeq === 1);
      if (end === "unfriend") await deleteFriend(t.ctx, a, { friendId: b });
      else await blockContact(t.ctx, a, { targetId: b });
      await expectAppError(markSessionRead(t.ctx, b, { peerId: a }), "FORBIDDEN", end === "unfriend" ? "无权查看聊天记录" : "已被对方拉黑，无法查看聊天记录");
      await sleep(INTERVAL * 2);
      expect(alice.updates.filter((x) => x.peerId === b).map((x) => x.upToSeq)).toEqual([1]);
      alice.stop();
    }
  });

  it("storm: marks racing an unfriending: every mark begun after the unfriending committed is refused and tells the peer nothing", async () => {
    const { a, b } = await friendsWithSessions(t.ctx);
    for (let i = 0; i < 30; i++) await send(t.ctx, a, b, `m${i}`);
    const alice = listen(t.ctx, a);
    await sleep(50);
    let unfriendedAt = Infinity;
    const unfriend = deleteFriend(t.ctx, a, { friendId: b }).then(() => (unfriendedAt = performance.now()));
    // Marks one position further each (up to the last message), started one after the other while the unfriending runs
    // and a few more after it has committed.
    const mark = async (seq: number) => {
      const startedAt = performance.now();
      const outcome = await markSessionRead(t.ctx, b, { peerId: a, seq }).then(
        (r) => ({ ok: true as const, readSeq: r.readSeq }),
        (e: unknown) => ({ ok: false as const, error: e }),
      );
      return { startedAt, outcome };
    };
    const marks: ReturnType<typeof mark>[] = [];
    let after = 0;
    for (let seq = 1; after < 5; seq++) {
      marks.push(mark(Math.min(seq, 30)));
      if (unfriendedAt !== Infinity) after++;
      await sleep(2);
    }
    const results = await Promise.all(marks);
    await unfriend;
    const late = results.filter((r) => r.startedAt > unfriendedAt);
    expect(late.length).toBeGreaterThan(0);
    for (const r of late) expect(r.outcome.ok).toBe(false);
    await sleep(INTERVAL * 2);
    // What alice heard is at most the furthest mark that got through.
    const granted = Math.max(0, ...results.flatMap((r) => (r.outcome.ok ? [r.outcome.readSeq] : [])));
    expect(Math.max(0, ...alice.updates.filter((x) => x.peerId === b).map((x) => x.upToSeq))).toBe(granted);
    alice.stop();
  });
});

describe("read receipts (live, two nodes)", () => {
  it("the sender on node A hears a read made on node B; a private sender hears the peer's position", async () => {
    const { owner, members, groupId } = await groupWith(nodeA, 2);
    const [m1] = members as [string, string];
    const sender = listen(nodeA, owner);
    await sleep(50);
    const { message } = await send(nodeA, owner, groupId, "read me");
    await markSessionRead(nodeB, m1, { peerId: groupId });
    const u = await sender.until((x) => x.conversationId === groupId);
    expect(u).toMatchObject({ kind: "receipt", peerId: groupId, fromSeq: 0, upToSeq: message.seq });
    sender.stop();

    const { a, b } = await friendsWithSessions(nodeA);
    const alice = listen(nodeA, a);
    await sleep(50);
    const sent = await send(nodeA, a, b, "hi bob");
    await markSessionRead(nodeB, b, { peerId: a });
    expect(await alice.until((x) => x.peerId === b)).toMatchObject({ upToSeq: sent.message.seq, fromSeq: 0 });
    alice.stop();
  });

  it("a burst of reads: at most one update per interval, and the last one always carries the final position", async () => {
    const { owner, members, groupId } = await groupWith(nodeA, 12);
    const sender = listen(nodeA, owner);
    await sleep(50);
    let last = 0;
    for (let i = 0; i < 30; i++) last = (await send(nodeA, owner, groupId, `m${i}`)).message.seq;
    // Every member reads, a message at a time, from both nodes, for longer than two intervals.
    const started = Date.now();
    await Promise.all(
      members.map(async (m, k) => {
        for (let s = 1; s <= last; s++) {
          await markSessionRead(k % 2 ? nodeB : nodeA, m, { peerId: groupId, seq: s });
          if (s % 5 === 0) await sleep(20);
        }
      }),
    );
    const burst = Date.now() - started;
    // The final update arrives within an interval (plus slack) of the last read.
    const final = await sender.until((x) => x.upToSeq === last, INTERVAL * 3);
    await sleep(INTERVAL * 2);
    const mine = sender.updates.filter((x) => x.conversationId === groupId);
    expect(mine.at(-1)?.upToSeq).toBe(last);
    expect(final.upToSeq).toBe(last);
    // Throttled: never two updates closer than the interval (a little timer slack allowed).
    for (let i = 1; i < mine.length; i++) expect((mine[i]?.at ?? 0) - (mine[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(INTERVAL - 30);
    expect(mine.length).toBeLessThanOrEqual(Math.ceil(burst / INTERVAL) + 2);
    expect(mine.length).toBeGreaterThan(1);
    sender.stop();
  });

  it("reads that land inside the interval after an update are delivered at its end (the trailing update)", async () => {
    const { owner, members, groupId } = await groupWith(nodeA, 2);
    const [m1, m2] = members as [string, string];
    const sender = listen(nodeA, owner);
    await sleep(50);
    let last = 0;
    for (let i = 0; i < 5; i++) last = (await send(nodeA, owner, groupId, `t${i}`)).message.seq;
    await markSessionRead(nodeA, m1, { peerId: groupId, seq: 1 });
    const first = await sender.until((x) => x.conversationId === groupId, INTERVAL);
    expect(first.upToSeq).toBe(1);
    // Within the same interval: these wait for its end, and then come as one update.
    await markSessionRead(nodeB, m2, { peerId: groupId, seq: 3 });
    await markSessionRead(nodeA, m1, { peerId: groupId });
    const trailing = await sender.until((x) => x.conversationId === groupId && x.upToSeq === last, INTERVAL * 3);
    expect(trailing.at - first.at).toBeGreaterThanOrEqual(INTERVAL - 30);
    expect(trailing.fromSeq).toBe(0); // m2 moved from 0
    await sleep(INTERVAL * 2);
    expect(sender.updates.filter((x) => x.conversationId === groupId)).toHaveLength(2);
    sender.stop();
  });

  it("concurrent marks only move forward, and each mark's signal starts exactly where the previous ended", async () => {
    const { owner, members, groupId } = await groupWith(nodeA, 1);
    const [m1] = members as [string];
    let last = 0;
    for (let i = 0; i < 60; i++) last = (await send(nodeA, owner, groupId, `s${i}`)).message.seq;
    const signals: ReadSignal[] = [];
    const unsubscribe = nodeA.bus.subscribe((msg) => {
      for (const s of msg.signals ?? []) if (s.kind === "read" && s.readerId === m1) signals.push(s);
    });
    // 60 marks at once, in a shuffled order, half of them on each node.
    const targets = Array.from({ length: last }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    const results = await Promise.all(targets.map((seq, i) => markSessionRead(i % 2 ? nodeB : nodeA, m1, { peerId: groupId, seq })));
    await sleep(100); // node B's last signals are still on their way to node A
    unsubscribe();
    // Every answer is at least what was asked; the position ends at the largest.
    results.forEach((r, i) => expect(r.readSeq).toBeGreaterThanOrEqual(targets[i] ?? 0));
    expect(Math.max(...results.map((r) => r.readSeq))).toBe(last);
    // Node A's bus carries every signal once (its own at once, node B's forwarded).
    const unique = [...signals].sort((x, y) => x.fromSeq - y.fromSeq);
    expect(unique.every((x) => x.toSeq > x.fromSeq)).toBe(true);
    // The moves chain from 0 to the end with neither gap nor overlap: each mark read the position
    // it moved from under the row's lock.
    expect(unique[0]?.fromSeq).toBe(0);
    for (let i = 1; i < unique.length; i++) expect(unique[i]?.fromSeq).toBe(unique[i - 1]?.toSeq);
    expect(unique.at(-1)?.toSeq).toBe(last);
  });
});
