import { Redis } from "ioredis";
import type { Logger } from "../context.js";
import type { BusListener, EventBus } from "./bus.js";
import type { StreamItem } from "./events.js";

/** Items travel as JSON; their dates are revived on arrival. */
function encode(items: StreamItem[]): string {
  return JSON.stringify(items);
}

function decode(text: string): StreamItem[] {
  const items = JSON.parse(text) as StreamItem[];
  for (const item of items) {
    if (item.kind === "message") item.message.createdAt = new Date(item.message.createdAt);
    else item.event.createdAt = new Date(item.event.createdAt);
  }
  return items;
}

/**
 * Redis pub/sub between nodes. The publishing node hands items to its own listeners at once and
 * every node (itself included) receives them again from Redis; the dispatcher drops what it has
 * already seen by stream id. Redis is only a wake-up: a lost publication is found in the database.
 */
export async function createRedisBus(url: string, channel: string, log: Logger): Promise<EventBus> {
  const pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const sub = new Redis(url, { lazyConnect: true });
  await Promise.all([pub.connect(), sub.connect()]);
  const listeners = new Set<BusListener>();
  const deliver = (items: StreamItem[]) => {
    for (const listener of listeners) listener(items);
  };
  sub.on("message", (ch: string, text: string) => {
    if (ch !== channel) return;
    try {
      deliver(decode(text));
    } catch (error) {
      log.error({ err: error }, "undecodable event bus message");
    }
  });
  for (const client of [pub, sub]) client.on("error", (error: unknown) => log.warn({ err: error }, "redis connection error"));
  await sub.subscribe(channel);
  return {
    async publish(items) {
      deliver(items);
      await pub.publish(channel, encode(items));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      await Promise.allSettled([sub.quit(), pub.quit()]);
    },
  };
}
