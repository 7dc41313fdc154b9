import type { StreamItem } from "./events.js";

export type BusListener = (items: StreamItem[]) => void;

/**
 * Wakes every node up after a commit. It is never the truth: a node that misses a publication
 * finds the items in the database (see StreamDispatcher's gap handling and poll).
 */
export interface EventBus {
  publish(items: StreamItem[]): Promise<void>;
  subscribe(listener: BusListener): () => void;
  close(): Promise<void>;
}

/** One process: listeners are called synchronously, in publication order. */
export function createMemoryBus(): EventBus {
  const listeners = new Set<BusListener>();
  return {
    publish(items) {
      for (const listener of listeners) listener(items);
      return Promise.resolve();
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
