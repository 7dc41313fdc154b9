import { availableParallelism } from "node:os";
import type { Db } from "@omnilink/db";
import type { HashGate } from "./auth/hash-gate.js";
import type { ScryptCost } from "./auth/password.js";
import type { TokenService } from "./auth/tokens.js";
import type { EventBus } from "./realtime/bus.js";
import type { StreamDispatcher } from "./realtime/dispatcher.js";
import type { NodePresence } from "./realtime/presence.js";
import type { ReceiptRelay } from "./realtime/receipts.js";
import type { Ticker } from "./realtime/ticker.js";
import type { Logger } from "./logger.js";
import type { SendMessageInput, SendResult } from "./messages/schemas.js";
import type { RateLimiter } from "./messages/rate-limit.js";

export type { Logger } from "./logger.js";


export interface Limits {
  /** Largest text content, in UTF-8 bytes. */
  maxMessageBytes: number;
  /** Most active members a group may have (owner included). */
  maxGroupMembers: number;
  /** Per-group send rate: a burst, refilled at `perSecond`. */
  groupSendBurst: number;
  groupSendPerSecond: number;
  /** The part (0–1] of that rate one member may use, so that one member cannot silence a group. */
  groupSendMemberShare: number;
  /** Most admins a group may have (the owner not counted). */
  maxGroupAdmins: number;
  /** How long after sending a member may recall their own message, in milliseconds. */
  recallWindowMs: number;
  /** Read receipts: at most one live update per conversation per this interval, per node (ms). */
  receiptIntervalMs: number;
  /** Items a subscriber may have waiting before it is disconnected as too slow. */
  maxSubscriberQueue: number;
  /** Password hashes run at once, and how many may wait for a slot (the rest are refused at once). */
  hashConcurrency: number;
  hashQueue: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageBytes: 64 * 1024,
  maxGroupMembers: 2000,
  groupSendBurst: 200,
  groupSendPerSecond: 100,
  groupSendMemberShare: 0.25,
  maxGroupAdmins: 10,
  recallWindowMs: 2 * 60 * 1000,
  receiptIntervalMs: 1000,
  maxSubscriberQueue: 5000,
  hashConcurrency: Math.min(4, availableParallelism()),
  hashQueue: 16,
};

/** Everything a domain function needs, built once at start-up and passed in (no singletons). */
export interface DomainContext {
  db: Db;
  tokens: TokenService;
  /** Password hashing cost; tests may pass a cheaper one. */
  scryptCost?: ScryptCost;
  /** Bounds the password hashes in flight (see HashGate). */
  hashing: HashGate;
  /** Wakes every node after a commit (in memory for one node, Redis for several). */
  bus: EventBus;
  /** This node's ordered view of the stream and its local subscribers. */
  dispatcher: StreamDispatcher;
  /** Orders committed stream rows after the fact (see Ticker). */
  ticker: Ticker;
  /** Coalesces read signals into throttled receipt updates for this node's listeners. */
  receipts: ReceiptRelay;
  limits: Limits;
  rateLimiter: RateLimiter;
  /** This node's group-commit queues, one per conversation with sends in flight. */
  sends: SendPipeline;
  /** Who is connected to this node, and the cluster's view of who is online (see presence.ts). */
  presence: NodePresence;
  /** Typing signals per user (key) and conversation (member share), per node. */
  typingLimiter: RateLimiter;
  log: Logger;
}

/**
 * The group-commit pipeline sends go through (SendQueue, messages/send.ts): enqueued at once, in
 * call order per conversation, resolved once committed.
 */
export interface SendPipeline {
  enqueue(senderId: string, conversationId: string, input: SendMessageInput): Promise<SendResult>;
  /** Batches taken and the sends they carried. */
  readonly stats: { batches: number; sends: number };
}
