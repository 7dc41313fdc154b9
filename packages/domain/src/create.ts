import type { Db } from "@omnilink/db";
import { createHashGate } from "./auth/hash-gate.js";
import type { ScryptCost } from "./auth/password.js";
import type { TokenService } from "./auth/tokens.js";
import { DEFAULT_LIMITS, type DomainContext, type Limits, type Logger } from "./context.js";
import { SendQueue } from "./messages/send.js";
import { createRateLimiter } from "./messages/rate-limit.js";
import { createMemoryBus, type EventBus } from "./realtime/bus.js";
import { StreamDispatcher } from "./realtime/dispatcher.js";
import { createMemoryPresenceStore, NodePresence, type PresenceStore } from "./realtime/presence.js";
import { ReceiptRelay } from "./realtime/receipts.js";
import { Ticker } from "./realtime/ticker.js";
import { activeGroupIds } from "./realtime/stream-queries.js";
import { MAX_PRESENCE_GROUPS } from "./realtime/ephemeral.js";

export interface DomainOptions {
  db: Db;
  tokens: TokenService;
  bus?: EventBus;
  limits?: Partial<Limits>;
  log?: Logger;
  scryptCost?: ScryptCost;
  /** How often the dispatcher polls the database for items the bus did not deliver. */
  streamPollMs?: number;
  /**
   * Presence: where nodes keep who is connected (Redis with several nodes; by default a store of
   * this node's own), how often a node renews its mark, how long the mark lasts, and how long a
   * user's last connection may be gone before they are announced offline.
   */
  presence?: { store?: PresenceStore; heartbeatMs?: number; ttlMs?: number; offlineGraceMs?: number };
}

/**
 * Typing signals a user may send per node: a burst of 10 at 5 a second over all conversations,
 * of which at most 4 at 2 a second to any one conversation (the member share of the key's bucket).
 * A client refreshes "typing" every few seconds; this leaves room for a few chats at once.
 */
const TYPING_BURST = 10;
const TYPING_PER_SECOND = 5;
const TYPING_CONVERSATION_SHARE = 0.4;

const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** Builds the context and starts this node's dispatcher; `stop()` detaches it from the bus. */
export async function createDomain(options: DomainOptions): Promise<DomainContext & { stop(): Promise<void> }> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.log ?? silent;
  const bus = options.bus ?? createMemoryBus();
  const dispatcher = new StreamDispatcher(options.db, bus, { log, ...(options.streamPollMs ? { pollMs: options.streamPollMs } : {}) });
  await dispatcher.start();
  const ticker = new Ticker(options.db, bus, log);
  ticker.start(options.streamPollMs ?? 1000);
  const presence = new NodePresence({
    store: options.presence?.store ?? createMemoryPresenceStore(),
    bus,
    tick: () => ticker.kick(),
    groupsOf: (userId) => activeGroupIds(options.db, userId, MAX_PRESENCE_GROUPS),
    log,
    ...(options.presence?.heartbeatMs ? { heartbeatMs: options.presence.heartbeatMs } : {}),
    ...(options.presence?.ttlMs ? { ttlMs: options.presence.ttlMs } : {}),
    ...(options.presence?.offlineGraceMs !== undefined ? { offlineGraceMs: options.presence.offlineGraceMs } : {}),
  });
  await presence.start();
  const receipts = new ReceiptRelay(bus, dispatcher, limits.receiptIntervalMs, log);
  receipts.start();
  const ctx: DomainContext & { stop(): Promise<void> } = {
    db: options.db,
    tokens: options.tokens,
    ...(options.scryptCost ? { scryptCost: options.scryptCost } : {}),
    bus,
    dispatcher,
    ticker,
    receipts,
    limits,
    hashing: createHashGate(limits.hashConcurrency, limits.hashQueue),
    rateLimiter: createRateLimiter(limits.groupSendBurst, limits.groupSendPerSecond, limits.groupSendMemberShare),
    sends: new SendQueue(() => ctx),
    presence,
    typingLimiter: createRateLimiter(TYPING_BURST, TYPING_PER_SECOND, TYPING_CONVERSATION_SHARE),
    log,
    stop: async () => {
      await presence.stop();
      receipts.stop();
      await ticker.stop();
      await dispatcher.stop();
    },
  };
  return ctx;
}
