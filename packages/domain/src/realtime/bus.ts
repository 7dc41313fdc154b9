import type { BusSignal } from "./ephemeral.js";
import type { StreamItem } from "./events.js";
import type { TickInfo } from "./positions.js";

/**
 * What travels between nodes: committed rows (not yet ordered) and the ticks that order them;
 * ephemeral signals (typing, presence, read positions), which are never stored.
 */
export interface BusMessage {
  items?: StreamItem[];
  ticks?: TickInfo[];
  signals?: BusSignal[];
}

export type BusListener = (message: BusMessage) => void;

/**
 * Wakes every node up after a commit or a tick. It is never the truth: a node that misses a
 * publication finds the rows and the ticks in the database (see StreamDispatcher).
 */
export interface EventBus {
  /**
   * Hands the message to this node's listeners at once and to the other nodes when it can.
   * Never waits and never throws: a send's acknowledgement must not depend on the bus.
   */
  publish(message: BusMessage): void;
  subscribe(listener: BusListener): () => void;
  close(): Promise<void>;
  /** Publications sent to the other nodes, and those dropped instead (a bus between nodes only). */
  stats?(): { published: number; dropped: number };
}

/** One process: listeners are called synchronously, in publication order. */
export function createMemoryBus(): EventBus {
  const listeners = new Set<BusListener>();
  return {
    publish(message) {
      for (const listener of listeners) listener(message);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      listeners.clear();
      return Promise.resolve();
    },
  };
}
