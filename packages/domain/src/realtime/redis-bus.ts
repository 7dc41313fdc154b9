import { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import type { BusListener, BusMessage, EventBus } from "./bus.js";
import { parseStreamEvent, type StreamItem } from "./events.js";

/**
 * Messages travel as JSON. On arrival message dates are revived and events are checked by
 * parseStreamEvent, as rows read from the database are; an event this node cannot read is left
 * out (the node that published it runs other code; its subscribers read the row themselves).
 */
function encode(message: BusMessage): string {
  return JSON.stringify(message);
}

function decode(text: string): BusMessage {
  const message = JSON.parse(text) as BusMessage;
  if (message.items) {
    message.items = message.items.flatMap((item): StreamItem[] => {
      if (item.kind === "message") {
        item.message.createdAt = new Date(item.message.createdAt);
        return [item];
      }
      const event = parseStreamEvent(item.event);
      return event ? [{ ...item, event }] : [];
    });
  }
  return message;
}

export interface RedisBusOptions {
  /** Publications waiting for Redis at most; past it the oldest are dropped (the database has them). */
  maxPending?: number;
  /** A publication Redis has not answered in this long fails (and is dropped). */
  commandTimeoutMs?: number;
}

/** What the bus has done, for metrics and tests. */
export interface RedisBusStats {
  published: number;
  /** Publications never sent to Redis: it was down, slow, or the backlog was full. */
  dropped: number;
}

/**
 * Redis pub/sub between nodes. The publishing node hands items to its own listeners at once and
 * every node (itself included) receives them again from Redis; the dispatcher drops what it has
 * already seen. Redis is only a wake-up: a lost publication is found in the database.
 *
 * Publishing never waits for Redis. Encoded publications go into a bounded backlog that one loop
 * sends, a pipeline at a time; while Redis is unreachable the backlog is dropped instead of
 * queued (other nodes poll the database meanwhile), and a command that hangs times out. ioredis
 * reconnects and re-subscribes by itself, so live delivery resumes when Redis is back.
 */
export async function createRedisBus(url: string, channel: string, log: Logger, options: RedisBusOptions = {}): Promise<EventBus & { stats(): RedisBusStats }> {
  const maxPending = options.maxPending ?? 10_000;
  const pub = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 1000,
  });
  const sub = new Redis(url, { lazyConnect: true });
  await Promise.all([pub.connect(), sub.connect()]);
  const listeners = new Set<BusListener>();
  const deliver = (message: BusMessage) => {
    for (const listener of listeners) listener(message);
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

  const stats: RedisBusStats = { published: 0, dropped: 0 };
  let backlog: string[] = [];
  let pumping = false;
  let closed = false;
  let lastDropLog = 0;
  const drop = (n: number) => {
    stats.dropped += n;
    const now = Date.now();
    if (now - lastDropLog > 10_000) {
      lastDropLog = now;
      log.warn({ dropped: stats.dropped }, "event bus publications dropped (Redis unreachable or slow); nodes catch up from the database");
    }
  };
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      while (backlog.length > 0 && !closed) {
        if (pub.status !== "ready") {
          drop(backlog.length);
          backlog = [];
          break;
        }
        const batch = backlog;
        backlog = [];
        const pipeline = pub.pipeline();
        for (const text of batch) pipeline.publish(channel, text);
        const results = await pipeline.exec().catch(() => null);
        const failed = results === null ? batch.length : results.filter(([error]) => error).length;
        stats.published += batch.length - failed;
        if (failed > 0) drop(failed);
      }
    } finally {
      pumping = false;
    }
  };

  return {
    publish(message) {
      deliver(message);
      if (closed) return;
      backlog.push(encode(message));
      if (backlog.length > maxPending) drop(backlog.splice(0, backlog.length - maxPending).length);
      void pump();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stats: () => ({ ...stats }),
    async close() {
      closed = true;
      listeners.clear();
      await Promise.allSettled([sub.quit(), pub.quit()]);
    },
  };
}
