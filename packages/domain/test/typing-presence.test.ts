/**
 * Typing and presence across two nodes on one database: with REDIS_URL, two Redis buses and two
 * Redis presence stores (as two processes would have); without, two in-memory buses linked with
 * random delays (a publication reaches the other node 0–30 ms later, in no particular order, as
 * the dispatcher must expect) and one in-memory presence store shared by the two nodes.
 */
import { randomUUID } from "node:crypto";
import { groups } from "@omnilink/db";
import { createTestDb, type TestDb } from "@omnilink/db/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenService } from "../src/auth/tokens.js";
import type { DomainContext, Logger } from "../src/context.js";
import { createDomain } from "../src/create.js";
import { createGroup } from "../src/groups/create-group.js";
import { groupPresence } from "../src/groups/presence.js";
import { leaveGroup, removeMembers } from "../src/groups/leave-remove.js";
import { setMemberMuted } from "../src/groups/moderation.js";
import { createMemoryBus, type EventBus } from "../src/realtime/bus.js";
import { MAX_PRESENCE_GROUPS, type BusSignal, type EphemeralEvent } from "../src/realtime/ephemeral.js";
import { createMemoryPresenceStore, createRedisPresenceStore, NodePresence, type PresenceStore } from "../src/realtime/presence.js";
import { createRedisBus } from "../src/realtime/redis-bus.js";
import { userSignals, userStream } from "../src/realtime/subscribe.js";
import { signalTyping } from "../src/realtime/typing.js";
import { friendsWithSessions, settle } from "./fixtures.js";
import { expectAppError, newUser, newUsers, TEST_SCRYPT_COST } from "./helpers.js";

const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const REDIS_URL = process.env.REDIS_URL;
const PRESENCE = { ttlMs: 600, heartbeatMs: 100, offlineGraceMs: 50 };

type Node = DomainContext & { stop(): Promise<void> };

/** Two buses: each hands a publication to its own node at once and to the other one a random 0–30 ms later. */
function linkedBuses(): [EventBus, EventBus] {
  const [a, b] = [createMemoryBus(), createMemoryBus()];
  const end = (self: EventBus, other: EventBus): EventBus => ({
    publish(message) {
      self.publish(message);
      setTimeout(() => other.publish(message), Math.random() * 30);
    },
    subscribe: (listener) => self.subscribe(listener),
    close: () => self.close(),
  });
  return [end(a, b), end(b, a)];
}

let testDb: TestDb;
let n1: Node;
let n2: Node;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  testDb = await createTestDb();
  const tokens = createTokenService({ secret: "test-secret-0123456789abcdef0123456789", issuer: "OmniLink", expireHours: 24 });
  const channel = `test-typing:${randomUUID()}`;
  const buses = linkedBuses();
  const sharedStore = createMemoryPresenceStore();
  const node = async (k: 0 | 1): Promise<Node> => {
    let bus: EventBus = buses[k];
    let store: PresenceStore = sharedStore;
    if (REDIS_URL) {
      const redisBus = await createRedisBus(REDIS_URL, channel, silent);
      closers.push(() => redisBus.close());
      bus = redisBus;
      store = await createRedisPresenceStore(REDIS_URL, `${channel}:presence:`, silent);
    }
    return createDomain({ db: testDb.db, tokens, bus, scryptCost: TEST_SCRYPT_COST, streamPollMs: 200, presence: { store, ...PRESENCE } });
  };
  n1 = await node(0);
  n2 = await node(1);
});

afterAll(async () => {
  await n1?.stop();
  await n2?.stop();
  for (const close of closers) await close();
  await testDb?.dispose();
});

/** Records the ephemeral events `userId` hears on `ctx` (resolves once the subscription is live). */
async function listen(ctx: DomainContext, userId: string, stream: "signals" | "items" = "signals") {
  const abort = new AbortController();
  const events: EphemeralEvent[] = [];
  const before = ctx.dispatcher.subscriberCount;
  const done = (async () => {
    if (stream === "items") {
      for await (const item of userStream(ctx, userId, { signal: abort.signal })) void item;
      return;
    }
    for await (const e of userSignals(ctx, userId, { signal: abort.signal })) events.push(e);
  })();
  // Live once registered and activated (presence counts it from then on).
  while (ctx.dispatcher.subscriberCount === before || !(await ctx.presence.onlineAmong([userId])).has(userId)) await settle(5);
  await settle(20);
  return {
    events,
    typing: () => events.flatMap((e) => (e.kind === "typing" ? [e] : [])),
    presence: () => events.flatMap((e) => (e.kind === "presence" ? [e] : [])),
    async until(check: (events: EphemeralEvent[]) => boolean, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(events)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(events)}`);
        await settle(10);
      }
    },
    async stop() {
      abort.abort();
      await done;
    },
  };
}

async function group(ctx: DomainContext, memberCount: number) {
  const owner = await newUser(ctx, "owner");
  const members = await newUsers(ctx, memberCount, "m");
  const g = await createGroup(ctx, owner, { name: "typing", memberIds: members });
  return { owner, members, groupId: g.uuid };
}

/** Waits past the time any signal in flight needs to reach the other node (a tick, the bus). */
const quiet = () => settle(REDIS_URL ? 300 : 150);

describe("typing", () => {
  it("reaches the group's other members on both nodes, never the sender or a stranger", async () => {
    const { owner, members, groupId } = await group(n1, 2);
    const [near, far] = members as [string, string];
    const stranger = await newUser(n1, "stranger");
    const lNear = await listen(n1, near);
    const lFar = await listen(n2, far);
    const lOwner = await listen(n1, owner);
    const lStranger = await listen(n2, stranger);

    expect(await signalTyping(n1, owner, { peerId: groupId, typing: true })).toEqual({ ttlMs: 6000 });
    const expected = { kind: "typing", groupId, userId: owner, typing: true, ttlMs: 6000 };
    const typed = (n: number) => (e: EphemeralEvent[]) => e.filter((x) => x.kind === "typing").length >= n;
    await lFar.until(typed(1));
    await lNear.until(typed(1));
    await signalTyping(n2, owner, { peerId: groupId, typing: false });
    await lFar.until(typed(2));
    await lNear.until(typed(2));
    await quiet();
    expect(lFar.typing()).toEqual([expected, { ...expected, typing: false }]);
    expect(lNear.typing()).toEqual([expected, { ...expected, typing: false }]);
    expect(lOwner.typing()).toEqual([]);
    expect(lStranger.events).toEqual([]);
    for (const l of [lNear, lFar, lOwner, lStranger]) await l.stop();
  });

  it("reaches a friend in a private chat, on the other node; refuses a non-friend and oneself", async () => {
    const { a, b } = await friendsWithSessions(n1);
    const outsider = await newUser(n1, "out");
    const lb = await listen(n2, b);
    const lOut = await listen(n2, outsider);
    await signalTyping(n1, a, { peerId: b, typing: true });
    await lb.until((e) => e.some((x) => x.kind === "typing"));
    expect(lb.typing()).toEqual([{ kind: "typing", groupId: null, userId: a, typing: true, ttlMs: 6000 }]);
    await expectAppError(signalTyping(n1, outsider, { peerId: b, typing: true }), "FORBIDDEN", "无权发送消息");
    await expectAppError(signalTyping(n1, a, { peerId: a, typing: true }), "FORBIDDEN");
    await expectAppError(signalTyping(n1, a, { peerId: outsider, typing: true }), "FORBIDDEN", "无权发送消息");
    await quiet();
    expect(lOut.events).toEqual([]);
    expect(lb.typing()).toHaveLength(1);
    await lb.stop();
    await lOut.stop();
  });

  it("is refused to whoever may not send: a stranger, a muted, left or removed member, a non-manager under mute-all; a missing group is NOT_FOUND", async () => {
    const { owner, members, groupId } = await group(n1, 4);
    const [muted, left, removed, plain] = members as [string, string, string, string];
    const stranger = await newUser(n1, "s");
    await setMemberMuted(n1, owner, { groupId, userId: muted, muted: true });
    await leaveGroup(n1, left, groupId);
    await removeMembers(n1, owner, { groupId, memberIds: [removed] });
    await expectAppError(signalTyping(n1, stranger, { peerId: groupId, typing: true }), "FORBIDDEN", "非群成员，无法发送消息");
    await expectAppError(signalTyping(n1, muted, { peerId: groupId, typing: true }), "FORBIDDEN", "无权发送消息");
    await expectAppError(signalTyping(n1, left, { peerId: groupId, typing: true }), "FORBIDDEN", "无权发送消息");
    await expectAppError(signalTyping(n1, removed, { peerId: groupId, typing: true }), "FORBIDDEN", "无权发送消息");
    await expectAppError(signalTyping(n1, plain, { peerId: "G00000000000", typing: true }), "NOT_FOUND", "群组不存在");
    await signalTyping(n1, plain, { peerId: groupId, typing: true });
    await n1.db.update(groups).set({ muteAll: true }).where(eq(groups.uuid, groupId));
    await expectAppError(signalTyping(n1, plain, { peerId: groupId, typing: true }), "FORBIDDEN", "全员禁言中，仅群主和管理员可以发言");
    await signalTyping(n1, owner, { peerId: groupId, typing: true });
  });

  it("never reaches a member removed a moment before, on the other node (storm: 20 groups at once)", async () => {
    const rounds: Array<{ owner: string; typist: string; victim: string; groupId: string }> = [];
    for (let i = 0; i < 20; i++) {
      const { owner, members, groupId } = await group(n1, 2);
      const [typist, victim] = members as [string, string];
      rounds.push({ owner, typist, victim, groupId });
    }
    const listeners = await Promise.all(rounds.map((r) => listen(n2, r.victim)));
    const witnesses = await Promise.all(rounds.map((r) => listen(n2, r.owner)));
    await Promise.all(
      rounds.map(async (r) => {
        await removeMembers(n1, r.owner, { groupId: r.groupId, memberIds: [r.victim] });
        await signalTyping(n1, r.typist, { peerId: r.groupId, typing: true });
      }),
    );
    // Every owner (a member) heard it: the signals did travel.
    for (const w of witnesses) await w.until((e) => e.some((x) => x.kind === "typing"));
    await quiet();
    expect(listeners.flatMap((l) => l.typing())).toEqual([]);
    for (const l of [...listeners, ...witnesses]) await l.stop();
  });

  it("is rate limited per user and node: 4 signals at once to one conversation, 10 over all of them", async () => {
    const { owner, members, groupId } = await group(n1, 1);
    const member = members[0]!;
    const others: Array<{ groupId: string }> = [];
    for (let i = 0; i < 3; i++) others.push({ groupId: (await createGroup(n1, owner, { name: `other ${i}`, memberIds: [] })).uuid });
    // The limiter is the first thing a call does (synchronously), so calls made together share one instant.
    const one = await Promise.allSettled(Array.from({ length: 6 }, () => signalTyping(n1, member, { peerId: groupId, typing: true })));
    expect(one.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled", "rejected", "rejected"]);
    const refused = one[5];
    expect(refused?.status === "rejected" && (refused.reason as { kind: string }).kind).toBe("RATE_LIMITED");
    // Another user is not affected.
    await signalTyping(n1, owner, { peerId: groupId, typing: true });
    // The owner's overall budget (10, 9 left), whatever the conversation: 3 groups × 4 allowed each, 9 pass.
    const spread = await Promise.allSettled(
      others.flatMap((o) => Array.from({ length: 4 }, () => signalTyping(n1, owner, { peerId: o.groupId, typing: true }))),
    );
    expect(spread.filter((r) => r.status === "fulfilled")).toHaveLength(9);
    // The other node has a budget of its own.
    await signalTyping(n2, member, { peerId: groupId, typing: false });
  });
});

describe("presence", () => {
  it("shows a member connected to the other node online, announces it to the group's members, and offline when the last connection closes", async () => {
    const { owner, members, groupId } = await group(n1, 2);
    const [b, c] = members as [string, string];
    const stranger = await newUser(n1, "s");
    const lOwner = await listen(n1, owner);
    const lStranger = await listen(n1, stranger);
    expect(await groupPresence(n1, owner, groupId)).toEqual({ online: [owner] });

    const first = await listen(n2, b, "items");
    const second = await listen(n2, b);
    expect(await groupPresence(n1, owner, groupId)).toEqual({ online: [owner, b] });
    expect(await groupPresence(n2, c, groupId)).toEqual({ online: [owner, b] });
    await lOwner.until((e) => e.some((x) => x.kind === "presence" && x.userId === b && x.online));

    // One of two connections closes: still online, nothing announced.
    await first.stop();
    await settle(PRESENCE.offlineGraceMs + 200);
    expect(await groupPresence(n1, owner, groupId)).toEqual({ online: [owner, b] });
    expect(lOwner.presence()).toEqual([{ kind: "presence", userId: b, online: true }]);

    await second.stop();
    await lOwner.until((e) => e.some((x) => x.kind === "presence" && x.userId === b && !x.online));
    expect(await groupPresence(n1, owner, groupId)).toEqual({ online: [owner] });
    expect(lOwner.presence()).toEqual([
      { kind: "presence", userId: b, online: true },
      { kind: "presence", userId: b, online: false },
    ]);
    expect(lStranger.events).toEqual([]);
    await lOwner.stop();
    await lStranger.stop();
  });

  it("a reconnection within the grace period announces nothing", async () => {
    const { owner, members, groupId } = await group(n1, 1);
    const b = members[0]!;
    const lOwner = await listen(n1, owner);
    const one = await listen(n2, b);
    await lOwner.until((e) => e.some((x) => x.kind === "presence" && x.userId === b));
    await one.stop();
    const two = await listen(n2, b);
    await settle(PRESENCE.offlineGraceMs + 200);
    expect(lOwner.presence()).toEqual([{ kind: "presence", userId: b, online: true }]);
    expect(await groupPresence(n1, owner, groupId)).toEqual({ online: [owner, b] });
    await two.stop();
    await lOwner.stop();
  });

  it("answers only active members: a stranger, a left or removed member is refused, a missing group is NOT_FOUND", async () => {
    const { owner, members, groupId } = await group(n1, 3);
    const [muted, left, removed] = members as [string, string, string];
    const stranger = await newUser(n1, "s");
    await setMemberMuted(n1, owner, { groupId, userId: muted, muted: true });
    await leaveGroup(n1, left, groupId);
    await removeMembers(n1, owner, { groupId, memberIds: [removed] });
    expect(await groupPresence(n1, muted, groupId)).toEqual({ online: [] });
    for (const who of [stranger, left, removed]) await expectAppError(groupPresence(n1, who, groupId), "FORBIDDEN", "非群成员");
    await expectAppError(groupPresence(n1, owner, "G00000000000"), "NOT_FOUND", "群组不存在");
  });

  it("a node that stops beating takes its users offline after the mark's TTL", async () => {
    const { owner, members, groupId } = await group(n1, 1);
    const b = members[0]!;
    const lb = await listen(n2, b);
    expect(await groupPresence(n1, owner, groupId)).toEqual({ online: [b] });
    n2.presence.stopHeartbeat();
    const deadline = Date.now() + PRESENCE.ttlMs * 4;
    let online = [b];
    while (online.includes(b) && Date.now() < deadline) {
      await settle(50);
      online = (await groupPresence(n1, owner, groupId)).online;
    }
    expect(online).toEqual([]);
    await lb.stop();
  });
});

describe("what goes on the bus", () => {
  it("is bounded: a typing signal is a few ids; a presence change names at most MAX_PRESENCE_GROUPS groups", async () => {
    const published: BusSignal[] = [];
    const unsubscribe = n1.bus.subscribe((m) => published.push(...(m.signals ?? [])));
    try {
      const { owner, groupId } = await group(n1, 0);
      await signalTyping(n1, owner, { peerId: groupId, typing: true });
      const typing = published.find((x) => x.kind === "typing" && x.from === owner);
      expect(typing).toMatchObject({ kind: "typing", from: owner, to: groupId, typing: true });
      expect(JSON.stringify(typing).length).toBeLessThan(200);
    } finally {
      unsubscribe();
    }

    const bus = createMemoryBus();
    const seen: BusSignal[] = [];
    bus.subscribe((m) => seen.push(...(m.signals ?? [])));
    const many = Array.from({ length: MAX_PRESENCE_GROUPS + 100 }, (_, i) => `G${String(i).padStart(11, "0")}`);
    const presence = new NodePresence({ store: createMemoryPresenceStore(), bus, tick: () => Promise.resolve(7), groupsOf: () => Promise.resolve(many), log: silent, offlineGraceMs: 0 });
    await presence.start();
    presence.connected("U1");
    presence.connected("U1");
    presence.disconnected("U1");
    await settle(20);
    // The second connection and the first disconnection change nothing: one announcement so far.
    expect(seen.map((x) => x.kind === "presence" && [x.userId, x.online, x.groupIds.length, x.after])).toEqual([["U1", true, MAX_PRESENCE_GROUPS, 7]]);
    presence.disconnected("U1");
    await settle(50);
    expect(seen.map((x) => x.kind === "presence" && [x.userId, x.online])).toEqual([
      ["U1", true],
      ["U1", false],
    ]);
    expect(await presence.onlineAmong(["U1"])).toEqual(new Set());
    await presence.stop();
  });
});
