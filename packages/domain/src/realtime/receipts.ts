import { randomUUID } from "node:crypto";
import type { Logger } from "../logger.js";
import { isGroupId } from "../ids.js";
import type { EventBus } from "./bus.js";
import type { StreamDispatcher } from "./dispatcher.js";
import type { ReadSignal, ReceiptUpdate } from "./ephemeral.js";

/**
 * Live read receipts. Read positions (session.read_seq) are the only record of who has read what:
 * a mark that moves one publishes one ReadSignal on the bus, whatever the number of messages it
 * passes, and nothing is written for it. Every node coalesces the signals per conversation and
 * hands its local listeners at most one ReceiptUpdate per conversation per interval, the first
 * at once and, when more came meanwhile, a last one at the end of the interval (so the final
 * state of a burst always arrives). The updates are ephemeral: the positions are in the database,
 * and a client that missed one (reconnect, bus outage) asks `messages.receipts` again. Updates
 * reach subscribers through `userSignals`, with typing and presence.
 */

type Listener = (update: ReceiptUpdate) => void;

interface Pending {
  /** Per reader, the range their position moved over since the last flush. */
  readers: Map<string, { from: number; to: number }>;
  timer: NodeJS.Timeout | undefined;
}

export class ReceiptRelay {
  private readonly node = randomUUID();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly pending = new Map<string, Pending>();
  private unsubscribe: (() => void) | undefined;
  /** Updates handed to listeners (for tests and metrics). */
  readonly stats = { flushes: 0, delivered: 0 };

  constructor(
    private readonly bus: EventBus,
    private readonly dispatcher: StreamDispatcher,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.subscribe((message) => {
      for (const signal of message.signals ?? []) if (signal.kind === "read" && signal.origin !== this.node) this.note(signal);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }

  /** Noted here at once, and sent to every other node over the bus. O(1) whatever was read. */
  publish(signal: ReadSignal): void {
    this.note(signal);
    try {
      this.bus.publish({ signals: [{ ...signal, origin: this.node }] });
    } catch (error) {
      this.log.warn({ err: error }, "read signal publish failed");
    }
  }

  listen(userId: string, listener: Listener): () => void {
    let set = this.listeners.get(userId);
    if (!set) this.listeners.set(userId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(userId);
    };
  }

  /** Leading edge: the first signal of a quiet conversation goes out at once; later ones wait for the interval. */
  private note(signal: ReadSignal): void {
    let p = this.pending.get(signal.conversationId);
    const first = !p;
    if (!p) this.pending.set(signal.conversationId, (p = { readers: new Map(), timer: undefined }));
    const seen = p.readers.get(signal.readerId);
    p.readers.set(signal.readerId, { from: Math.min(seen?.from ?? signal.fromSeq, signal.fromSeq), to: Math.max(seen?.to ?? 0, signal.toSeq) });
    if (first) {
      this.flush(signal.conversationId, p);
      this.arm(signal.conversationId, p);
    }
  }

  /** Trailing edge: at the end of each interval, what came meanwhile goes out; a quiet interval ends the state. */
  private arm(conversationId: string, p: Pending): void {
    p.timer = setTimeout(() => {
      if (p.readers.size === 0) {
        this.pending.delete(conversationId);
        return;
      }
      this.flush(conversationId, p);
      this.arm(conversationId, p);
    }, this.intervalMs);
    p.timer.unref();
  }

  private flush(conversationId: string, p: Pending): void {
    const readers = p.readers;
    p.readers = new Map();
    this.stats.flushes++;
    if (isGroupId(conversationId)) {
      let from = Infinity;
      let to = 0;
      for (const r of readers.values()) {
        from = Math.min(from, r.from);
        to = Math.max(to, r.to);
      }
      // The group's members connected here, from the dispatcher's membership index (no query).
      for (const userId of new Set(this.dispatcher.localMembers(conversationId))) {
        this.deliver(userId, { kind: "receipt", conversationId, peerId: conversationId, fromSeq: from, upToSeq: to });
      }
      return;
    }
    const [a, b] = conversationId.split(":");
    for (const [me, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const moved = peer === undefined ? undefined : readers.get(peer);
      if (me === undefined || peer === undefined || !moved) continue;
      this.deliver(me, { kind: "receipt", conversationId, peerId: peer, fromSeq: moved.from, upToSeq: moved.to });
    }
  }

  private deliver(userId: string, update: ReceiptUpdate): void {
    for (const listener of this.listeners.get(userId) ?? []) {
      this.stats.delivered++;
      try {
        listener(update);
      } catch (error) {
        this.log.error({ err: error, userId }, "receipt listener threw");
      }
    }
  }
}

