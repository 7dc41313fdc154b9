import type { Db } from "@omnilink/db";
import type { Logger } from "../context.js";
import { isGroupId } from "../ids.js";
import type { EventBus } from "./bus.js";
import { membershipEffect, type StreamItem } from "./events.js";
import { loadStreamItems, streamHead } from "./stream-queries.js";

export interface StreamSink {
  /** Called in stream order, synchronously, for every item this subscriber should hear. */
  push(item: StreamItem): void;
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
  /** How long an out-of-order item waits for the ones before it before the database is asked. */
  gapWaitMs?: number;
  /** How often the database is polled for items the bus never delivered. */
  pollMs?: number;
  log: Logger;
}

/**
 * This node's ordered view of the event stream. Items arrive from the bus in any order; they are
 * handed out strictly in stream-id order, gaps being filled from the database (the truth). It
 * also keeps, for every group, the exact set of its members connected to this node, updated by
 * the membership events in that same order: a fan-out is one map lookup, never a query per member,
 * and a member removed at id N hears nothing after N.
 */
export class StreamDispatcher {
  private delivered = 0;
  private readonly pending = new Map<number, StreamItem>();
  private readonly byUser = new Map<string, Set<LocalSubscriber>>();
  private readonly byGroup = new Map<string, Set<LocalSubscriber>>();
  private unsubscribe: (() => void) | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private resolving: Promise<void> | undefined;
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

  /** Everything with an id up to this has been handed out. */
  get position(): number {
    return this.delivered;
  }

  async start(): Promise<void> {
    this.delivered = await streamHead(this.db);
    this.unsubscribe = this.bus.subscribe((items) => this.receive(items));
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

  /** Local subscribers of a group (for tests and metrics). */
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
   * Step 2, once the user's groups have been read from the database: the subscriber now hears
   * those groups too. Returns the position from which live delivery is complete; the caller
   * backfills up to it from the database.
   */
  activate(sub: LocalSubscriber, groupIds: string[]): number {
    const deltas = sub.deltas ?? [];
    sub.deltas = undefined;
    for (const g of groupIds) this.join(sub, g);
    for (const d of deltas) {
      if (d.joined) this.join(sub, d.groupId);
      else this.leave(sub, d.groupId);
    }
    return this.delivered;
  }

  unregister(sub: LocalSubscriber): void {
    removeFrom(this.byUser, sub.userId, sub);
    for (const g of sub.groups) removeFrom(this.byGroup, g, sub);
    sub.groups.clear();
  }

  receive(items: StreamItem[]): void {
    for (const item of items) if (item.id > this.delivered) this.pending.set(item.id, item);
    this.drain();
  }

  private drain(): void {
    while (this.pending.size > 0) {
      const next = this.pending.get(this.delivered + 1);
      if (!next) break;
      this.pending.delete(next.id);
      this.delivered = next.id;
      this.dispatch(next);
    }
    if (this.pending.size > 0 && !this.gapTimer && !this.resolving) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        void this.fillFromDatabase(Math.max(...this.pending.keys()));
      }, this.gapWaitMs);
    }
  }

  /** Reads (delivered, upTo] from the database; ids it does not find were rolled back. */
  private fillFromDatabase(upTo: number): Promise<void> {
    this.resolving ??= (async () => {
      try {
        while (this.delivered < upTo) {
          const found = await loadStreamItems(this.db, { after: this.delivered, upTo, limit: 1000 });
          const last = found.length === 1000 ? (found.at(-1)?.id ?? upTo) : upTo;
          for (const item of found) if (item.id > this.delivered) this.pending.set(item.id, item);
          for (const id of [...this.pending.keys()].filter((id) => id <= last).sort((a, b) => a - b)) {
            const item = this.pending.get(id);
            this.pending.delete(id);
            if (!item || id <= this.delivered) continue;
            this.delivered = id;
            this.dispatch(item);
          }
          this.delivered = Math.max(this.delivered, last);
        }
      } catch (error) {
        this.options.log.error({ err: error }, "filling a stream gap from the database failed; will retry");
      } finally {
        this.resolving = undefined;
      }
      this.drain();
    })();
    return this.resolving;
  }

  private async poll(): Promise<void> {
    if (this.resolving || this.pending.size > 0) return;
    try {
      const head = await streamHead(this.db);
      if (head > this.delivered) await this.fillFromDatabase(head);
    } catch (error) {
      this.options.log.warn({ err: error }, "stream poll failed");
    }
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
