import { streamTicks, type Db } from "@omnilink/db";
import { eq, sql } from "drizzle-orm";
import type { Logger } from "../logger.js";
import type { EventBus } from "./bus.js";
import { MAX_TICK_ITEMS, type TickInfo } from "./positions.js";

/**
 * Decides the stream's order after commit, so that writers never wait for each other to commit.
 *
 * A tick is a short transaction: it locks the latest tick row (so ticks are written one at a
 * time), then, in its next statement (a snapshot taken after the lock), reads the database
 * snapshot and the ids of every message and event whose writing transaction that snapshot sees
 * and the previous tick's did not: exactly the rows committed since. They become the next tick,
 * in id order. A row is in exactly one tick; a transaction that commits after another is seen by
 * the same tick or a later one, so one conversation's rows (ids taken under its lock) keep their
 * order. A long transaction delays only its own rows: the others are ticked as they commit.
 *
 * Every node ticks after its own commits (coalesced: one tick in flight, one more queued) and
 * every `pollMs`, which also covers a node that committed and died before ticking.
 */
export class Ticker {
  private running: Promise<number> | undefined;
  /** The run that starts when the one in flight ends, shared by everyone who asked meanwhile. */
  private next: Promise<number> | undefined;
  /** The newest tick this ticker wrote or saw. */
  private latest = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  start(pollMs: number): void {
    this.timer = setInterval(() => void this.kick(), pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.next;
    await this.running;
  }

  /**
   * Asks for a tick soon. Resolves, once a tick that started after this call has finished, with
   * the newest tick number: every row committed before the call is ordered at or before it. At
   * most one tick runs and one waits, however many commits ask.
   */
  kick(): Promise<number> {
    if (this.stopped) return Promise.resolve(this.latest);
    if (!this.running) return this.run();
    this.next ??= this.running.then(() => {
      this.next = undefined;
      return this.run();
    });
    return this.next;
  }

  private run(): Promise<number> {
    const running = this.tickOnce().finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private async tickOnce(): Promise<number> {
    try {
      const { latest, ticks } = await tick(this.db);
      this.latest = Math.max(this.latest, latest);
      if (ticks.length > 0) this.bus.publish({ ticks });
    } catch (error) {
      this.log.warn({ err: error }, "stream tick failed; the next one will pick the rows up");
    }
    return this.latest;
  }
}

const FRESH_ROWS = sql`
  prev as (select tick, snap from stream_tick order by tick desc limit 1),
  now_ as (select pg_current_snapshot() as snap),
  fresh as (
    select m.id from message m, prev, now_
    where m.tx >= pg_snapshot_xmin(prev.snap) and pg_visible_in_snapshot(m.tx, now_.snap) and not pg_visible_in_snapshot(m.tx, prev.snap)
    union all
    select e.id from stream_event e, prev, now_
    where e.tx >= pg_snapshot_xmin(prev.snap) and pg_visible_in_snapshot(e.tx, now_.snap) and not pg_visible_in_snapshot(e.tx, prev.snap)
  ),
  agg as (select coalesce(array_agg(id order by id), '{}') as ids, count(*) as n from fresh)`;

interface TickRow {
  previous: number | string;
  snap: string;
  xmax: string;
  ids: Array<number | string>;
  inserted: number | string | null;
}

const firstRow = (result: unknown): TickRow | undefined => (Array.isArray(result) ? result[0] : (result as { rows: unknown[] }).rows[0]) as TickRow | undefined;

/**
 * One tick; returns the ticks it wrote (none when nothing new was committed) and the newest tick.
 *
 * One statement, on its own (no transaction around it: one round trip and one commit). Its
 * snapshot reads the latest tick and the rows committed since, and it inserts the next tick
 * number. Two tickers racing (two nodes) compute the same number and the primary key lets one
 * win; the other inserts nothing and tries again with a newer snapshot. So tick k+1 always holds
 * a snapshot taken after tick k committed: snapshots only grow, and every row lands in exactly
 * one tick.
 */
export async function tick(db: Db): Promise<{ latest: number; ticks: TickInfo[] }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const row = firstRow(
      await db.execute(sql`
        with ${FRESH_ROWS},
        ins as (
          insert into stream_tick (tick, snap, snap_xmax, item_ids)
          select prev.tick + 1, now_.snap, pg_snapshot_xmax(now_.snap), agg.ids from prev, now_, agg
          where agg.n between 1 and ${MAX_TICK_ITEMS}
          on conflict (tick) do nothing
          returning tick
        )
        select prev.tick as previous, now_.snap::text as snap, pg_snapshot_xmax(now_.snap)::text as xmax, agg.ids,
               (select tick from ins) as inserted
        from prev, now_, agg`),
    );
    if (!row) throw new Error("stream_tick holds no tick (migrations not applied?)");
    const previous = Number(row.previous);
    const ids = row.ids.map(Number);
    if (ids.length === 0) return { latest: previous, ticks: [] };
    if (row.inserted !== null) return { latest: previous + 1, ticks: [{ tick: previous + 1, itemIds: ids }] };
    if (ids.length > MAX_TICK_ITEMS) return tickLarge(db);
    // Another node wrote this tick number first: try again, with a snapshot that sees it.
  }
  throw new Error("could not write a stream tick: 20 attempts lost the race");
}

/** More rows than one tick holds (a bulk write): several ticks with one snapshot, under a lock. */
async function tickLarge(db: Db): Promise<{ latest: number; ticks: TickInfo[] }> {
  return db.transaction(async (tx) => {
    // Tick 0 is the mutex (it always exists); the next statement's snapshot is taken after it.
    await tx.select({ tick: streamTicks.tick }).from(streamTicks).where(eq(streamTicks.tick, 0)).for("update");
    const row = firstRow(
      await tx.execute(sql`
        with ${FRESH_ROWS}
        select prev.tick as previous, now_.snap::text as snap, pg_snapshot_xmax(now_.snap)::text as xmax, agg.ids, null as inserted
        from prev, now_, agg`),
    );
    if (!row) throw new Error("stream_tick holds no tick (migrations not applied?)");
    const previous = Number(row.previous);
    const ids = row.ids.map(Number);
    const ticks: TickInfo[] = [];
    for (let i = 0, n = previous + 1; i < ids.length; i += MAX_TICK_ITEMS, n++) ticks.push({ tick: n, itemIds: ids.slice(i, i + MAX_TICK_ITEMS) });
    if (ticks.length > 0) await tx.insert(streamTicks).values(ticks.map((t) => ({ tick: t.tick, snap: row.snap, xmax: row.xmax, itemIds: t.itemIds })));
    return { latest: ticks.at(-1)?.tick ?? previous, ticks };
  });
}
