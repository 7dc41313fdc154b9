import type { Db } from "@omnilink/db";
import type { Logger } from "../logger.js";
import { isGroupId } from "../ids.js";
import type { BusMessage, EventBus } from "./bus.js";
import { TYPING_TTL_MS, type BusSignal, type EphemeralEvent, type ReadSignal } from "./ephemeral.js";
import { membershipEffect, type StreamItem } from "./events.js";
import { endOfTick, positionOf, type TickInfo } from "./positions.js";
import { latestTick, loadItemsByIds, loadTicks } from "./stream-queries.js";

/** The signals this dispatcher hands out itself, once their tick has been handed out. */
type GatedSignal = Exclude<BusSignal, ReadSignal>;

export interface StreamSink {
  /** Called in stream order, synchronously, for every item this subscriber should hear. */
  push(item: StreamItem): void;
  /** Ephemeral events (typing, presence); a sink without it hears none. */
  signal?(event: EphemeralEvent): void;
}

/** A connected user on this node, as the dispatcher indexes it. */
export class LocalSubscriber {
  readonly groups = new Set<string>();
  /** Set until activate(): membership changes seen meanwhile, replayed over the loaded groups. */
  deltas: Array<{ groupId: string; joined: boolean }> | undefined = [];

  constructor(
    readonly userId: string,
    readonly sink: StreamSink,
  ) {}
}

export interface DispatcherOptions {
  /** How long a tick waits for its rows to arrive on the bus before the database is asked. */
  gapWaitMs?: number;
  /** How often the database is polled for ticks the bus never delivered. */
  pollMs?: number;
  log: Logger;
}

/** Rows that arrived on the bus but were never ordered by a tick are forgotten after this long. */
const UNORDERED_TTL_MS = 60_000;
const RECENT_IDS = 10_000;
/** Signals waiting for their tick at most; past it the oldest are dropped (they are ephemeral). */
const MAX_PENDING_SIGNALS = 10_000;
const RECENT_SIGNALS = 4096;

/**
 * This node's ordered view of the event stream. Committed rows and the ticks that order them
 * arrive from the bus in any order; rows are handed out strictly tick by tick, in each tick's
 * order, whatever is missing being read from the database (the truth). It also keeps, for every
 * group, the exact set of its members connected to this node, updated by the membership events in
 * that same order: a fan-out is one map lookup, never a query per member, and a member removed at
 * position N hears nothing after N.
 */
export class StreamDispatcher {
  /** The last tick handed out completely. */
  private tick = 0;
  private readonly rows = new Map<number, { item: StreamItem; at: number }>();
  /** Ids handed out lately, so a row that reaches the bus after its tick is not kept around. */
  private readonly recent = new Set<number>();
  /** The same ids in a ring, oldest evicted first (deleting a Set's first entries over and over is quadratic). */
  private readonly recentRing: number[] = [];
  private recentNext = 0;
  private readonly ticks = new Map<number, TickInfo>();
  private readonly byUser = new Map<string, Set<LocalSubscriber>>();
  private readonly byGroup = new Map<string, Set<LocalSubscriber>>();
  /** Signals whose tick this node has not handed out yet, in arrival order. */
  private pendingSignals: GatedSignal[] = [];
  /** Signal ids seen lately: a node hears its own publications again from Redis. */
  private readonly recentSignals = new Set<string>();
  private readonly recentSignalRing: string[] = [];
  private recentSignalNext = 0;
  private unsubscribe: (() => void) | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private resolving: Promise<void> | undefined;
  private lastSweep = Date.now();
  private readonly gapWaitMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly options: DispatcherOptions,
  ) {
    this.gapWaitMs = options.gapWaitMs ?? 25;
    this.pollMs = options.pollMs ?? 1000;
  }

  /** Everything up to this stream position has been handed out. */
  get position(): number {
    return endOfTick(this.tick);
  }

  /** Whether the user has a subscriber on this node. */
  hasLocal(userId: string): boolean {
    return this.byUser.has(userId);
  }

  async start(): Promise<void> {
    this.tick = await latestTick(this.db);
    this.unsubscribe = this.bus.subscribe((message) => this.receive(message));
    this.pollTimer = setInterval(() => void this.poll(), this.pollMs);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.pollTimer);
    clearTimeout(this.gapTimer);
    await this.resolving;
  }

  /** Connected users (for metrics and tests). */
  get subscriberCount(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  /** The users with a subscriber on this node in the group, as this node's membership view has them. */
  localMembers(groupId: string): string[] {
    return [...(this.byGroup.get(groupId) ?? [])].map((s) => s.userId);
  }

  /** Step 1 of subscribing: from now on the user's own items reach `sink`. */
  register(userId: string, sink: StreamSink): LocalSubscriber {
    const sub = new LocalSubscriber(userId, sink);
    addTo(this.byUser, userId, sub);
    return sub;
  }

  /**
   * Step 2, once the user's groups as of the registration's position have been read: the
   * subscriber now hears those groups too. Returns the position from which live delivery is
   * complete; the caller backfills up to it from the database.
   */
  activate(sub: LocalSubscriber, groupIds: string[]): number {
    const deltas = sub.deltas ?? [];
    sub.deltas = undefined;
    for (const g of groupIds) this.join(sub, g);
    for (const d of deltas) {
      if (d.joined) this.join(sub, d.groupId);
      else this.leave(sub, d.groupId);
    }
    return this.position;
  }

  /** Resolves once every tick up to `tick` has been handed out (reading the database if need be). */
  async reach(tick: number): Promise<void> {
    for (let attempt = 0; this.tick < tick && attempt < 50; attempt++) {
      await (this.resolving ?? this.fillFromDatabase(tick));
    }
  }

  unregister(sub: LocalSubscriber): void {
    removeFrom(this.byUser, sub.userId, sub);
    for (const g of sub.groups) removeFrom(this.byGroup, g, sub);
    sub.groups.clear();
  }

  receive(message: BusMessage): void {
    const now = Date.now();
    for (const item of message.items ?? []) if (!this.recent.has(item.id)) this.rows.set(item.id, { item, at: now });
    for (const t of message.ticks ?? []) if (t.tick > this.tick) this.ticks.set(t.tick, t);
    for (const s of message.signals ?? []) this.receiveSignal(s);
    this.drain();
  }

  private receiveSignal(s: BusSignal): void {
    // Read positions go to the ReceiptRelay, which listens to the bus itself.
    if (s.kind === "read") return;
    if (this.recentSignals.has(s.id)) return;
    const evicted = this.recentSignalRing[this.recentSignalNext];
    if (evicted !== undefined) this.recentSignals.delete(evicted);
    this.recentSignalRing[this.recentSignalNext] = s.id;
    this.recentSignalNext = (this.recentSignalNext + 1) % RECENT_SIGNALS;
    this.recentSignals.add(s.id);
    if (s.after <= this.tick) {
      this.dispatchSignal(s);
      return;
    }
    this.pendingSignals.push(s);
    if (this.pendingSignals.length > MAX_PENDING_SIGNALS) this.pendingSignals.splice(0, this.pendingSignals.length - MAX_PENDING_SIGNALS);
  }

  /** Hands out the waiting signals whose tick has been handed out, in arrival order. */
  private flushSignals(): void {
    if (this.pendingSignals.length === 0) return;
    const ready = this.pendingSignals.filter((s) => s.after <= this.tick);
    if (ready.length === 0) return;
    this.pendingSignals = this.pendingSignals.filter((s) => s.after > this.tick);
    for (const s of ready) this.dispatchSignal(s);
  }

  /**
   * The audience of a signal, decided here from this node's membership view (as of the signal's
   * tick or later), never from the sender's node: typing goes to the group's other local members
   * or to the private peer; a presence change to the local members of the groups it names.
   */
  private dispatchSignal(s: GatedSignal): void {
    const targets = new Set<LocalSubscriber>();
    let event: EphemeralEvent;
    if (s.kind === "typing") {
      const group = isGroupId(s.to);
      event = { kind: "typing", groupId: group ? s.to : null, userId: s.from, typing: s.typing, ttlMs: TYPING_TTL_MS };
      const audience = group ? this.byGroup.get(s.to) : this.byUser.get(s.to);
      audience?.forEach((sub) => {
        if (sub.userId !== s.from) targets.add(sub);
      });
    } else {
      event = { kind: "presence", userId: s.userId, online: s.online };
      for (const g of s.groupIds) {
        this.byGroup.get(g)?.forEach((sub) => {
          if (sub.userId !== s.userId) targets.add(sub);
        });
      }
    }
    for (const sub of targets) {
      try {
        sub.sink.signal?.(event);
      } catch (error) {
        this.options.log.error({ err: error, userId: sub.userId }, "subscriber sink threw");
      }
    }
  }

  /** Hands out every complete tick that follows the last one; asks the database for the rest. */
  private drain(): void {
    if (this.resolving) return;
    for (const known of this.ticks.keys()) if (known <= this.tick) this.ticks.delete(known);
    for (;;) {
      const next = this.ticks.get(this.tick + 1);
      if (!next || !next.itemIds.every((id) => this.rows.has(id))) break;
      this.handOut(next, new Map());
    }
    this.sweep();
    if (this.ticks.size > 0 && !this.gapTimer) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        void this.fillFromDatabase(Math.max(...this.ticks.keys()));
      }, this.gapWaitMs);
    }
  }

  private handOut(t: TickInfo, loaded: Map<number, StreamItem>): void {
    this.ticks.delete(t.tick);
    this.tick = t.tick;
    t.itemIds.forEach((id, k) => {
      const row = this.rows.get(id)?.item ?? loaded.get(id);
      this.rows.delete(id);
      this.remember(id);
      // A row the database no longer has (deleted since) is skipped; its position stays taken.
      if (row) this.dispatch({ ...row, pos: positionOf(t.tick, k + 1) });
    });
    this.flushSignals();
  }

  private remember(id: number): void {
    const evicted = this.recentRing[this.recentNext];
    if (evicted !== undefined) this.recent.delete(evicted);
    this.recentRing[this.recentNext] = id;
    this.recentNext = (this.recentNext + 1) % RECENT_IDS;
    this.recent.add(id);
  }

  /** Reads the ticks up to `upTo` it lacks, and the rows the bus did not bring, from the database. */
  private fillFromDatabase(upTo: number): Promise<void> {
    if (!this.resolving) {
      // Cleared in a callback, which always runs after this assignment (a fill that has nothing to
      // do completes at once; clearing inside it would run before the assignment and stick).
      const run = this.fill(upTo).finally(() => {
        if (this.resolving === run) this.resolving = undefined;
        this.drain();
      });
      this.resolving = run;
    }
    return this.resolving;
  }

  private async fill(upTo: number): Promise<void> {
    try {
      while (this.tick < upTo) {
        const ticks = await loadTicks(this.db, this.tick, upTo, 50);
        if (ticks[0]?.tick !== this.tick + 1) break;
        // One tick at a time: a tick may hold tens of thousands of rows.
        for (const t of ticks) {
          if (t.tick !== this.tick + 1) break;
          const loaded = await loadItemsByIds(
            this.db,
            t.itemIds.filter((id) => !this.rows.has(id)),
          );
          this.handOut(t, loaded);
        }
      }
    } catch (error) {
      this.options.log.error({ err: error }, "filling the stream from the database failed; will retry");
    }
  }

  private async poll(): Promise<void> {
    if (this.resolving) return;
    try {
      const head = await latestTick(this.db);
      if (head > this.tick) await this.fillFromDatabase(head);
    } catch (error) {
      this.options.log.warn({ err: error }, "stream poll failed");
    }
  }

  /** Forgets rows no tick has claimed for a long time (a tick that saw them was handed out without them). */
  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < UNORDERED_TTL_MS) return;
    this.lastSweep = now;
    for (const [id, { at }] of this.rows) if (now - at > UNORDERED_TTL_MS) this.rows.delete(id);
  }

  private dispatch(item: StreamItem): void {
    const targets = new Set<LocalSubscriber>();
    const addAll = (set: Set<LocalSubscriber> | undefined) => set?.forEach((s) => targets.add(s));
    if (item.kind === "message") {
      const m = item.message;
      if (isGroupId(m.receiveId)) addAll(this.byGroup.get(m.receiveId));
      else {
        addAll(this.byUser.get(m.sendId));
        addAll(this.byUser.get(m.receiveId));
      }
    } else {
      const { event } = item;
      const effect = membershipEffect(event);
      const groupId = event.groupId;
      if (groupId) for (const u of effect.joined) this.byUser.get(u)?.forEach((s) => this.join(s, groupId));
      if (groupId) addAll(this.byGroup.get(groupId));
      for (const u of event.userIds) addAll(this.byUser.get(u));
      if (groupId) for (const u of effect.removed) this.byUser.get(u)?.forEach((s) => this.leave(s, groupId));
    }
    for (const sub of targets) {
      try {
        sub.sink.push(item);
      } catch (error) {
        this.options.log.error({ err: error, userId: sub.userId }, "subscriber sink threw");
      }
    }
  }

  private join(sub: LocalSubscriber, groupId: string): void {
    if (sub.deltas) {
      sub.deltas.push({ groupId, joined: true });
      return;
    }
    sub.groups.add(groupId);
    addTo(this.byGroup, groupId, sub);
  }

  private leave(sub: LocalSubscriber, groupId: string): void {
    if (sub.deltas) {
      sub.deltas.push({ groupId, joined: false });
      return;
    }
    sub.groups.delete(groupId);
    removeFrom(this.byGroup, groupId, sub);
  }
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
