import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import type { EventBus } from "./bus.js";
import { MAX_PRESENCE_GROUPS } from "./ephemeral.js";

/**
 * Where the nodes of a cluster keep who is connected where. Nothing of it is in the database.
 * A node marks itself alive for a while (`heartbeat`) and marks its users online and offline as
 * their first connection opens and their last one closes; a user is online while some node that
 * is still alive has them marked. A node that dies stops beating, so its users go offline when its
 * mark lapses, and `sweep` forgets them.
 */
export interface PresenceStore {
  /** Marks `node` alive for `ttlMs`; false when its previous mark had lapsed (its users were forgotten). */
  heartbeat(node: string, ttlMs: number): Promise<boolean>;
  mark(node: string, userIds: string[], online: boolean): Promise<void>;
  /** Of `userIds`, those some live node has marked online. */
  onlineAmong(userIds: string[]): Promise<Set<string>>;
  /** Forgets the marks of nodes whose heartbeat lapsed. */
  sweep(): Promise<void>;
  /** `node` leaves: its mark and its users' marks go. */
  removeNode(node: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * In memory: one process. Several domains built with the same store (tests of two nodes in one
 * process) share it the way nodes share Redis.
 */
export function createMemoryPresenceStore(now: () => number = Date.now): PresenceStore {
  const alive = new Map<string, number>();
  const byUser = new Map<string, Set<string>>();
  const byNode = new Map<string, Set<string>>();
  const isAlive = (node: string) => (alive.get(node) ?? 0) > now();
  const forget = (node: string) => {
    for (const u of byNode.get(node) ?? []) {
      const nodes = byUser.get(u);
      nodes?.delete(node);
      if (nodes?.size === 0) byUser.delete(u);
    }
    byNode.delete(node);
    alive.delete(node);
  };
  return {
    heartbeat(node, ttlMs) {
      const lapsed = !isAlive(node);
      if (lapsed && alive.has(node)) forget(node);
      alive.set(node, now() + ttlMs);
      return Promise.resolve(!lapsed);
    },
    mark(node, userIds, online) {
      let users = byNode.get(node);
      if (!users) byNode.set(node, (users = new Set()));
      for (const u of userIds) {
        let nodes = byUser.get(u);
        if (online) {
          if (!nodes) byUser.set(u, (nodes = new Set()));
          nodes.add(node);
          users.add(u);
        } else {
          nodes?.delete(node);
          if (nodes?.size === 0) byUser.delete(u);
          users.delete(u);
        }
      }
      return Promise.resolve();
    },
    onlineAmong(userIds) {
      return Promise.resolve(new Set(userIds.filter((u) => [...(byUser.get(u) ?? [])].some(isAlive))));
    },
    sweep() {
      for (const node of [...byNode.keys(), ...alive.keys()]) if (!isAlive(node)) forget(node);
      return Promise.resolve();
    },
    removeNode(node) {
      forget(node);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

/** Users per Redis pipeline when many are marked or looked up at once. */
const REDIS_CHUNK = 1000;

/**
 * Redis: `<prefix>node:<node>` (a key with a TTL: the node is alive), `<prefix>nodes` (the set of
 * nodes that marked anyone), `<prefix>user:<user>` (a hash whose fields are the nodes the user is
 * connected to) and `<prefix>on:<node>` (the users a node marked, so a dead node's marks can be
 * forgotten). A lookup of n users is one pipeline of n HKEYS and one MGET of the nodes they name.
 */
export async function createRedisPresenceStore(url: string, prefix: string, log: Logger): Promise<PresenceStore> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 2000 });
  redis.on("error", (error: unknown) => log.warn({ err: error }, "presence: redis connection error"));
  await redis.connect();
  const nodeKey = (node: string) => `${prefix}node:${node}`;
  const userKey = (user: string) => `${prefix}user:${user}`;
  const onKey = (node: string) => `${prefix}on:${node}`;
  const nodesKey = `${prefix}nodes`;

  const forget = async (node: string) => {
    const users = await redis.smembers(onKey(node));
    for (let i = 0; i < users.length; i += REDIS_CHUNK) {
      const pipeline = redis.pipeline();
      for (const u of users.slice(i, i + REDIS_CHUNK)) pipeline.hdel(userKey(u), node);
      await pipeline.exec();
    }
    await redis.multi().del(onKey(node)).srem(nodesKey, node).exec();
  };

  return {
    async heartbeat(node, ttlMs) {
      const previous = await redis.set(nodeKey(node), "1", "PX", ttlMs, "GET");
      return previous !== null;
    },
    async mark(node, userIds, online) {
      if (userIds.length === 0) return;
      for (let i = 0; i < userIds.length; i += REDIS_CHUNK) {
        const chunk = userIds.slice(i, i + REDIS_CHUNK);
        const multi = redis.multi();
        if (online) {
          multi.sadd(nodesKey, node).sadd(onKey(node), ...chunk);
          for (const u of chunk) multi.hset(userKey(u), node, "1");
        } else {
          multi.srem(onKey(node), ...chunk);
          for (const u of chunk) multi.hdel(userKey(u), node);
        }
        await multi.exec();
      }
    },
    async onlineAmong(userIds) {
      const online = new Set<string>();
      for (let i = 0; i < userIds.length; i += REDIS_CHUNK) {
        const chunk = userIds.slice(i, i + REDIS_CHUNK);
        const pipeline = redis.pipeline();
        for (const u of chunk) pipeline.hkeys(userKey(u));
        const results = (await pipeline.exec()) ?? [];
        const nodesOf = chunk.map((_, k) => {
          const [error, nodes] = results[k] ?? [null, []];
          if (error) throw error;
          return nodes as string[];
        });
        const nodes = [...new Set(nodesOf.flat())];
        if (nodes.length === 0) continue;
        const marks = await redis.mget(...nodes.map(nodeKey));
        const alive = new Set(nodes.filter((_, k) => marks[k] !== null));
        chunk.forEach((u, k) => {
          if (nodesOf[k]?.some((n) => alive.has(n))) online.add(u);
        });
      }
      return online;
    },
    async sweep() {
      const nodes = await redis.smembers(nodesKey);
      if (nodes.length === 0) return;
      const marks = await redis.mget(...nodes.map(nodeKey));
      for (const [k, node] of nodes.entries()) if (marks[k] === null) await forget(node);
    },
    async removeNode(node) {
      await redis.del(nodeKey(node));
      await forget(node);
    },
    async close() {
      await redis.quit().catch(() => undefined);
    },
  };
}

export interface PresenceOptions {
  store: PresenceStore;
  bus: EventBus;
  /**
   * A tick that orders every row committed before the call (the ticker's `kick`): a presence
   * change is handed out after it on every node.
   */
  tick: () => Promise<number>;
  /** The user's active groups, from the database (at most MAX_PRESENCE_GROUPS are named). */
  groupsOf: (userId: string) => Promise<string[]>;
  log: Logger;
  /** How often the node renews its mark; the mark lasts `ttlMs`. */
  heartbeatMs?: number;
  ttlMs?: number;
  /** A user whose last connection closed is announced offline this long after, unless they came back. */
  offlineGraceMs?: number;
}

/**
 * This node's connections per user, and the announcements of the changes. A user's first
 * connection on this node marks them online in the store and announces it to the members of
 * their groups (one bus publication naming the groups; every node hands it to its own members of
 * them). Their last connection closing starts a grace period; a reconnection within it changes
 * nothing (no event, no store write), else the node unmarks them and announces them offline
 * unless another node still has them.
 */
export class NodePresence {
  readonly node = randomUUID();
  private readonly counts = new Map<string, number>();
  private readonly leaving = new Map<string, NodeJS.Timeout>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private seq = 0;
  private stopped = false;
  private readonly heartbeatMs: number;
  private readonly ttlMs: number;
  private readonly graceMs: number;

  constructor(private readonly options: PresenceOptions) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(50, Math.floor(this.ttlMs / 3));
    this.graceMs = options.offlineGraceMs ?? 3000;
  }

  async start(): Promise<void> {
    await this.beat();
    this.heartbeatTimer = setInterval(() => {
      this.beating ??= this.beat().finally(() => (this.beating = undefined));
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /** Stops renewing this node's mark without removing anything: as if the node had died (tests). */
  stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    for (const timer of this.leaving.values()) clearTimeout(timer);
    this.leaving.clear();
    await this.beating;
    await this.options.store.removeNode(this.node).catch((error: unknown) => this.options.log.warn({ err: error }, "presence: leaving failed"));
    await this.options.store.close();
  }

  /** Users connected to this node (for metrics and tests). */
  get localUsers(): number {
    return this.counts.size;
  }

  /** A live connection of `userId` opened. */
  connected(userId: string): void {
    const n = this.counts.get(userId) ?? 0;
    this.counts.set(userId, n + 1);
    if (n > 0) return;
    const pending = this.leaving.get(userId);
    if (pending) {
      // Back within the grace period: still marked, nobody was told otherwise.
      clearTimeout(pending);
      this.leaving.delete(userId);
      return;
    }
    void this.options.store
      .mark(this.node, [userId], true)
      .catch((error: unknown) => this.options.log.warn({ err: error }, "presence: marking online failed"))
      .then(() => this.announce(userId, true))
      .catch((error: unknown) => this.options.log.warn({ err: error }, "presence: announcing failed"));
  }

  /** A live connection of `userId` closed. */
  disconnected(userId: string): void {
    const n = (this.counts.get(userId) ?? 0) - 1;
    if (n > 0) {
      this.counts.set(userId, n);
      return;
    }
    this.counts.delete(userId);
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.leaving.delete(userId);
      void this.leave(userId);
    }, this.graceMs);
    timer.unref();
    this.leaving.set(userId, timer);
  }

  /** Of `userIds`, those connected now to this node or to another live one. */
  async onlineAmong(userIds: string[]): Promise<Set<string>> {
    const local = userIds.filter((u) => this.counts.has(u) || this.leaving.has(u));
    let remote = new Set<string>();
    try {
      remote = await this.options.store.onlineAmong(userIds);
    } catch (error) {
      this.options.log.warn({ err: error }, "presence: lookup failed; answering with this node's users only");
    }
    for (const u of local) remote.add(u);
    return new Set(userIds.filter((u) => remote.has(u)));
  }

  private async leave(userId: string): Promise<void> {
    try {
      await this.options.store.mark(this.node, [userId], false);
      if (this.counts.has(userId)) {
        // Reconnected while the store was written: mark again, nobody was told.
        await this.options.store.mark(this.node, [userId], true);
        return;
      }
      const still = await this.options.store.onlineAmong([userId]);
      if (!still.has(userId)) await this.announce(userId, false);
    } catch (error) {
      this.options.log.warn({ err: error }, "presence: marking offline failed");
    }
  }

  /**
   * Tells the members of the user's groups, read now (the groups a subscription heard may lag a
   * group created a moment ago), after a tick taken after that read: every receiver's membership
   * view then holds those groups when it hands the change out.
   */
  private async announce(userId: string, online: boolean): Promise<void> {
    if (this.stopped) return;
    const groupIds = await this.options.groupsOf(userId);
    if (this.stopped || groupIds.length === 0) return;
    const after = await this.options.tick();
    if (this.stopped) return;
    this.options.bus.publish({
      signals: [{ kind: "presence", id: `${this.node}/${++this.seq}`, userId, online, groupIds: groupIds.slice(0, MAX_PRESENCE_GROUPS), after }],
    });
  }

  /** Renews this node's mark; if it had lapsed (Redis restarted, or this node stalled and was swept), marks its users again. */
  private async beat(): Promise<void> {
    const { store, log } = this.options;
    try {
      const kept = await store.heartbeat(this.node, this.ttlMs);
      if (!kept) await store.mark(this.node, [...this.counts.keys(), ...this.leaving.keys()], true);
      await store.sweep();
    } catch (error) {
      log.warn({ err: error }, "presence: heartbeat failed");
    }
  }
}
