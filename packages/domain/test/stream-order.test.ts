import { queryRows, streamEvents } from "@omnilink/db";
import { sql } from "drizzle-orm";
import { endOfTick, MAX_TICK_ITEMS } from "../src/realtime/positions.js";
import { latestTick, loadTicks } from "../src/realtime/stream-queries.js";
import { tick } from "../src/realtime/ticker.js";
import { describe, expect, it } from "vitest";
import { createGroup } from "../src/groups/create-group.js";
import type { StreamItem } from "../src/realtime/events.js";
import { collect, send, settle } from "./fixtures.js";
import { newUser, useTestContext } from "./helpers.js";

const t = useTestContext({ groupSendBurst: 100_000, groupSendPerSecond: 100_000 });
const onPostgres = Boolean(process.env.DATABASE_URL);

const messagesOf = (items: StreamItem[]) => items.flatMap((i) => (i.kind === "message" ? [i.message] : []));

describe("the stream's order, decided after commit", () => {
  it("concurrent writers in many conversations: each conversation in seq order, every message once; a resume from the middle yields exactly the rest", async () => {
    const reader = await newUser(t.ctx, "reader");
    const senders = await Promise.all(Array.from({ length: 4 }, () => newUser(t.ctx, "sender")));
    const groups: string[] = [];
    for (let g = 0; g < 12; g++) groups.push((await createGroup(t.ctx, senders[0]!, { name: `order ${g}`, memberIds: [reader, ...senders.slice(1)] })).uuid);
    const live = collect(t.ctx, reader);
    await settle();
    // Every sender sends to every group at once: transactions of different groups commit in parallel.
    const perSender = 10;
    await Promise.all(
      senders.flatMap((from) => groups.map(async (g) => {
        for (let i = 0; i < perSender; i++) await send(t.ctx, from, g, `${g}:${from}:${i}`);
      })),
    );
    const total = senders.length * groups.length * perSender;
    await live.until(total, 30_000);
    await settle(300);
    const got = messagesOf(live.items);
    expect(got).toHaveLength(total);
    expect(new Set(got.map((m) => m.uuid)).size).toBe(total);
    for (const g of groups) {
      const seqs = got.filter((m) => m.conversationId === g).map((m) => m.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
    // Positions strictly increase along the stream.
    const positions = live.items.map((i) => i.pos);
    expect(positions.every((p, i) => i === 0 || p > positions[i - 1]!)).toBe(true);
    await live.stop();

    // A subscriber that saw the stream up to some item resumes with exactly what followed it.
    const cut = Math.floor(live.items.length / 3);
    const resumed = collect(t.ctx, reader, live.items[cut - 1]!.id);
    await resumed.until(live.items.length - cut, 30_000);
    await settle(300);
    expect(resumed.items.map((i) => i.id)).toEqual(live.items.slice(cut).map((i) => i.id));
    await resumed.stop();
  });

  it("a commit larger than one tick holds is split over consecutive ticks, every row once", async () => {
    const before = await latestTick(t.ctx.db);
    await t.ctx.db.execute(sql`insert into stream_event (type, group_id, user_ids, payload) select 'group.updated', null, '{}', '{}'::jsonb from generate_series(1, ${MAX_TICK_ITEMS + 10})`);
    await t.ctx.ticker.kick();
    const ticks = await loadTicks(t.ctx.db, before, Number.MAX_SAFE_INTEGER, 10);
    const ids = ticks.flatMap((k) => k.itemIds);
    expect(ticks.length).toBe(2);
    expect(ticks.map((k) => k.tick)).toEqual([before + 1, before + 2]);
    expect(ticks[0]!.itemIds).toHaveLength(MAX_TICK_ITEMS);
    expect(new Set(ids).size).toBe(MAX_TICK_ITEMS + 10);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // The dispatcher hands both out (reading the rows the bus never carried from the database).
    await t.ctx.dispatcher.reach(before + 2);
    expect(t.ctx.dispatcher.position).toBe(endOfTick(before + 2));
  });

  it("tickers racing (as on several nodes) never put a row in two ticks nor skip one", async () => {
    const owner = await newUser(t.ctx, "owner");
    const g = await createGroup(t.ctx, owner, { name: "racing tickers", memberIds: [] });
    const before = await latestTick(t.ctx.db);
    const writes = Promise.all(Array.from({ length: 40 }, (_, i) => send(t.ctx, owner, g.uuid, `r${i}`)));
    const racing = Promise.all(Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 10; i++) await tick(t.ctx.db);
    }));
    await Promise.all([writes, racing]);
    await t.ctx.ticker.kick();
    const ticks = await loadTicks(t.ctx.db, before, Number.MAX_SAFE_INTEGER, 10_000);
    expect(ticks.map((k) => k.tick)).toEqual(ticks.map((_, i) => before + 1 + i));
    const ids = ticks.flatMap((k) => k.itemIds);
    expect(new Set(ids).size).toBe(ids.length);
    const [row] = await queryRows<{ n: number }>(t.ctx.db, sql`select count(*)::int as n from message where conversation_id = ${g.uuid}`);
    const mine = await queryRows<{ id: number | string }>(t.ctx.db, sql`select id from message where conversation_id = ${g.uuid}`);
    expect(row?.n).toBe(40);
    expect(mine.every((m) => ids.includes(Number(m.id)))).toBe(true);
  });

  it.runIf(onPostgres)("a long transaction in flight delays only its own row: later commits are delivered meanwhile, it follows when it commits", async () => {
    const owner = await newUser(t.ctx, "owner");
    const reader = await newUser(t.ctx, "reader");
    const g = await createGroup(t.ctx, owner, { name: "long transaction", memberIds: [reader] });
    const live = collect(t.ctx, reader);
    await settle();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const started = new Promise<void>((r) => (inserted = r));
    // A transaction that writes a stream row of the group, then stays open.
    const long = t.ctx.db.transaction(async (tx) => {
      await tx.insert(streamEvents).values({ type: "group.updated", groupId: g.uuid, userIds: [], payload: { changes: { notice: "late" } } });
      inserted();
      await held;
    });
    await started;
    for (let i = 0; i < 5; i++) await send(t.ctx, owner, g.uuid, `meanwhile ${i}`);
    await live.until(5, 10_000);
    expect(messagesOf(live.items).map((m) => m.content)).toEqual(Array.from({ length: 5 }, (_, i) => `meanwhile ${i}`));
    release();
    await long;
    await t.ctx.ticker.kick();
    await live.until(6, 10_000);
    const last = live.items.at(-1)!;
    expect(last.kind === "event" && last.event.type).toBe("group.updated");
    await live.stop();
  });
});
