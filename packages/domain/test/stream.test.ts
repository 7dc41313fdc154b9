import { createTestDb, type TestDb } from "@omnilink/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenService } from "../src/auth/tokens.js";
import { createDomain } from "../src/create.js";
import { createMemoryBus, type BusMessage, type EventBus } from "../src/realtime/bus.js";
import type { StreamItem } from "../src/realtime/events.js";
import { collect, friendsWithSessions, groupWith, send, settle } from "./fixtures.js";
import { createTestContext, newUser, TEST_SCRYPT_COST, useTestContext } from "./helpers.js";

const t = useTestContext({ groupSendBurst: 10_000, groupSendPerSecond: 10_000 });

const contents = (items: StreamItem[]) => items.map((i) => (i.kind === "message" ? i.message.content : `<${i.event.type}>`));

describe("the user stream", () => {
  it("delivers every message of the user's groups and private chats live, in order, and nothing else", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 2);
    const other = await groupWith(t.ctx, 1);
    const { a, b } = await friendsWithSessions(t.ctx);
    const s1 = collect(t.ctx, members[0]!);
    const sa = collect(t.ctx, a);
    await settle();
    await send(t.ctx, owner, groupId, "g1");
    await send(t.ctx, other.owner, other.groupId, "not for you");
    await send(t.ctx, members[1]!, groupId, "g2");
    await send(t.ctx, b, a, "p1");
    expect(contents(await s1.until(2))).toEqual(["g1", "g2"]);
    expect(contents(await sa.until(1))).toEqual(["p1"]);
    await settle();
    expect(s1.items).toHaveLength(2);
    expect(sa.items).toHaveLength(1);
    await Promise.all([s1.stop(), sa.stop()]);
  });

  it("resumes after a disconnect with exactly what was missed: 100 messages, in order, once", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    const second = await groupWith(t.ctx, 0);
    const reader = members[0]!;
    // The reader is in two groups; messages interleave between them.
    const { createGroup } = await import("../src/groups/create-group.js");
    const g2 = await createGroup(t.ctx, second.owner, { name: "second", memberIds: [reader] });
    const first = collect(t.ctx, reader);
    await settle();
    await send(t.ctx, owner, groupId, "before");
    const [seen] = await first.until(1);
    await first.stop();
    for (let i = 0; i < 100; i++) {
      if (i % 3 === 0) await send(t.ctx, second.owner, g2.uuid, `x${i}`);
      else await send(t.ctx, owner, groupId, `x${i}`);
    }
    const resumed = collect(t.ctx, reader, seen!.id);
    const got = await resumed.until(100);
    await settle();
    expect(resumed.items).toHaveLength(100);
    expect(contents(got)).toEqual(Array.from({ length: 100 }, (_, i) => `x${i}`));
    const ids = got.map((i) => i.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    // Still live after the backfill.
    await send(t.ctx, owner, groupId, "live again");
    expect(contents(await resumed.until(101)).at(-1)).toBe("live again");
    await resumed.stop();
  });

  it("a subscriber who joins during a burst gets every message once (listen first, then backfill)", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    const first = await send(t.ctx, owner, groupId, "m0");
    const sending = (async () => {
      for (let i = 1; i <= 60; i++) await send(t.ctx, owner, groupId, `m${i}`);
    })();
    await new Promise((r) => setTimeout(r, 20));
    const s = collect(t.ctx, members[0]!, first.message.id);
    await sending;
    const got = await s.until(60);
    await settle();
    expect(contents(s.items)).toEqual(Array.from({ length: 60 }, (_, i) => `m${i + 1}`));
    expect(got).toHaveLength(60);
    await s.stop();
  });

  it("cuts off a subscriber whose queue overflows instead of growing memory", async () => {
    const small = await createTestContext({ maxSubscriberQueue: 5, groupSendBurst: 1000, groupSendPerSecond: 1000 });
    try {
      const { owner, members, groupId } = await groupWith(small.ctx, 1);
      const { userStream } = await import("../src/realtime/subscribe.js");
      const stream = userStream(small.ctx, members[0]!);
      const firstPull = stream.next(); // starts the subscription, then never reads again
      await settle();
      for (let i = 0; i < 10; i++) await send(small.ctx, owner, groupId, `flood ${i}`);
      await firstPull;
      const outcome = await (async () => {
        try {
          for (;;) if ((await stream.next()).done) return "ended";
        } catch (e) {
          return (e as { kind?: string }).kind;
        }
      })();
      expect(outcome).toBe("RATE_LIMITED");
      expect(small.ctx.dispatcher.subscriberCount).toBe(0);
    } finally {
      await small.dispose();
    }
  });
});

describe("the dispatcher", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(() => db.dispose());

  it("fills what the bus lost or reordered from the database, and still hands items out in order", async () => {
    const inner = createMemoryBus();
    let n = 0;
    const held: BusMessage[] = [];
    // Drops every third publication and delays every other one: the database must fill the gaps.
    const lossy: EventBus = {
      ...inner,
      publish(message) {
        n++;
        if (n % 3 === 0) return;
        if (n % 2 === 0) {
          held.push(message);
          setTimeout(() => inner.publish(held.shift() ?? {}), 40);
          return;
        }
        inner.publish(message);
      },
    };
    const tokens = createTokenService({ secret: "x".repeat(32), issuer: "OmniLink", expireHours: 1 });
    const d = await createDomain({ db: db.db, tokens, bus: lossy, scryptCost: TEST_SCRYPT_COST, limits: { groupSendBurst: 1000 } });
    try {
      const owner = await newUser(d);
      const reader = await newUser(d);
      const { createGroup } = await import("../src/groups/create-group.js");
      const g = await createGroup(d, owner, { name: "lossy", memberIds: [reader] });
      const s = collect(d, reader);
      await settle();
      for (let i = 0; i < 30; i++) await send(d, owner, g.uuid, `l${i}`);
      const got = await s.until(30);
      await settle(300);
      expect(contents(got)).toEqual(Array.from({ length: 30 }, (_, i) => `l${i}`));
      expect(s.items).toHaveLength(30);
      await s.stop();
    } finally {
      await d.stop();
    }
  });
});
