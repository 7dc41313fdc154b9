import type { StreamItem } from "./events.js";

export type BusListener = (items: StreamItem[]) => void;

/**
 * Wakes every node up after a commit. It is never the truth: a node that misses a publication
 * finds the items in the database (see StreamDispatcher's gap handling and poll).
 */
export interface EventBus {
  /**
   * Hands committed items to this node's listeners at once and to the other nodes when it can.
   * Never waits and never throws: a send's acknowledgement must not depend on the bus.
   */
  publish(items: StreamItem[]): void;
  subscribe(listener: BusListener): () => void;
  close(): Promise<void>;
  /** Publications sent to the other nodes, and those dropped instead (a bus between nodes only). */
  stats?(): { published: number; dropped: number };
}

/** One process: listeners are called synchronously, in publication order. */
export function createMemoryBus(): EventBus {
  const listeners = new Set<BusListener>();
  return {
    publish(items) {
      for (const listener of listeners) listener(items);
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
