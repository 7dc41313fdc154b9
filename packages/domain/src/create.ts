import type { Db } from "@omnilink/db";
import { createHashGate } from "./auth/hash-gate.js";
import type { ScryptCost } from "./auth/password.js";
import type { TokenService } from "./auth/tokens.js";
import { DEFAULT_LIMITS, type DomainContext, type Limits, type Logger } from "./context.js";
import { SendQueue } from "./messages/send.js";
import { createRateLimiter } from "./messages/rate-limit.js";
import { createMemoryBus, type EventBus } from "./realtime/bus.js";
import { StreamDispatcher } from "./realtime/dispatcher.js";
import { ReceiptRelay } from "./realtime/receipts.js";
import { Ticker } from "./realtime/ticker.js";

export interface DomainOptions {
  db: Db;
  tokens: TokenService;
  bus?: EventBus;
  limits?: Partial<Limits>;
  log?: Logger;
  scryptCost?: ScryptCost;
  /** How often the dispatcher polls the database for items the bus did not deliver. */
  streamPollMs?: number;
}

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
    log,
    stop: async () => {
      receipts.stop();
      await ticker.stop();
      await dispatcher.stop();
    },
  };
  return ctx;
}
