import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { Limits, ScryptCost } from "@omnilink/domain";
import { z } from "zod";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

/** The only reader of process.env: everything else receives a validated Config. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: optionalString.pipe(z.string().url().optional()),
  DATA_DIR: z.string().default(".data"),
  JWT_SECRET: optionalString.pipe(z.string().min(16, "JWT_SECRET must be at least 16 characters").optional()),
  JWT_ISSUER: z.string().default("OmniLink"),
  JWT_EXPIRE_HOURS: z.coerce.number().positive().default(24),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  REDIS_URL: optionalString,
  REDIS_CHANNEL: z.string().min(1).default("omnilink:stream"),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  MAX_MESSAGE_BYTES: z.coerce.number().int().positive().default(64 * 1024),
  MAX_GROUP_MEMBERS: z.coerce.number().int().min(2).default(2000),
  GROUP_SEND_BURST: z.coerce.number().int().positive().default(200),
  GROUP_SEND_PER_SECOND: z.coerce.number().positive().default(100),
  MAX_SUBSCRIBER_QUEUE: z.coerce.number().int().positive().default(5000),
  MAX_SOCKET_BUFFER_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
  WS_PING_MS: z.coerce.number().int().positive().default(25_000),
  // WebSocket limits: what one socket, one user or one group member may ask of a node.
  GROUP_SEND_MEMBER_SHARE: z.coerce.number().gt(0).max(1).default(0.25),
  MAX_GROUP_ADMINS: z.coerce.number().int().min(0).max(500).default(10),
  RECALL_WINDOW_MS: z.coerce.number().int().min(0).default(120_000),
  RECEIPT_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  TRPC_WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().positive().default(10),
  TRPC_WS_AUTH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  WSS_FRAME_BURST: z.coerce.number().int().positive().default(50),
  WSS_FRAMES_PER_SECOND: z.coerce.number().positive().default(20),
  WSS_MAX_PENDING_FRAMES: z.coerce.number().int().positive().default(64),
  STREAM_POLL_MS: z.coerce.number().int().positive().default(1000),
  PRESENCE_TTL_MS: z.coerce.number().int().min(1000).default(30_000),
  PRESENCE_OFFLINE_GRACE_MS: z.coerce.number().int().min(0).default(3000),
  UPLOAD_MAX_BYTES: z.coerce.number().int().positive().default(20 * 1024 * 1024),
  // HTTP-side limits: timeouts, body size, login attempts, password hashing, tRPC batches, upload quota.
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  CONNECTION_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().positive().default(72_000),
  TRUST_PROXY: optionalString.transform(trustProxy),
  AUTH_WINDOW_MS: z.coerce.number().int().positive().default(5 * 60_000),
  AUTH_MAX_PER_IP: z.coerce.number().int().positive().default(30),
  AUTH_MAX_PER_USERNAME: z.coerce.number().int().positive().default(10),
  HASH_CONCURRENCY: z.coerce.number().int().positive().default(Math.min(4, availableParallelism())),
  HASH_QUEUE: z.coerce.number().int().min(0).default(16),
  TRPC_MAX_BATCH: z.coerce.number().int().positive().default(20),
  UPLOAD_QUOTA_WINDOW_MS: z.coerce.number().int().positive().default(60 * 60_000),
  UPLOAD_QUOTA_FILES: z.coerce.number().int().positive().default(100),
  UPLOAD_QUOTA_BYTES: z.coerce.number().int().positive().default(200 * 1024 * 1024),
});

/** TRUST_PROXY: unset/false, true (any proxy), a hop count, or a comma list of proxy addresses/CIDRs. */
function trustProxy(value: string | undefined): TrustProxy {
  if (!value || value === "false") return false;
  if (value === "true") return true;
  if (!/^\d+$/.test(value)) return value;
  const hops = Number(value);
  return (_address, hop) => hop < hops;
}

/** What Fastify's trustProxy option takes (a hop count becomes a function of the hop). */
type TrustProxy = boolean | string | ((address: string, hop: number) => boolean);

/** Timeouts, sizes and quotas of the HTTP side (see README, Configuration). */
export interface HttpLimits {
  /** Largest JSON body (uploads have their own limit). */
  bodyLimitBytes: number;
  /** Time a client has to send a whole request, headers and body (slow senders are cut off with 408). */
  requestTimeoutMs: number;
  /** Time a client has to send the request headers. */
  headersTimeoutMs: number;
  /** A socket with no traffic for this long is closed. */
  connectionTimeoutMs: number;
  /** Idle keep-alive sockets are closed after this long. */
  keepAliveTimeoutMs: number;
  /** Fastify's trustProxy: whose X-Forwarded-For names the client (the login limits key on the client's address). */
  trustProxy: TrustProxy;
  /** Login and register attempts per client address and login attempts per username, per window. */
  auth: { windowMs: number; maxPerIp: number; maxPerUsername: number };
  /** Most calls in one tRPC HTTP batch. */
  trpcMaxBatch: number;
  /** Uploads per user and window: files and bytes. */
  uploadQuota: { windowMs: number; maxFiles: number; maxBytes: number };
}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  /** Absolute path of the data folder (PGlite files, the generated JWT secret, uploads). */
  dataDir: string;
  jwt: { secret: string | undefined; issuer: string; expireHours: number };
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  redisUrl: string | undefined;
  /** Pub/sub channel of the cross-node bus; nodes of one deployment share it. */
  redisChannel: string;
  shutdownTimeoutMs: number;
  limits: Limits;
  /** A WebSocket whose unsent data passes this is closed as too slow. */
  maxSocketBufferBytes: number;
  /** Interval of WebSocket pings (legacy /wss and tRPC). */
  wsPingMs: number;
  /** What one socket or user may ask of this node over WebSockets. */
  sockets: SocketLimits;
  /** Safety net: how often each node asks the database for stream items the bus never brought. */
  streamPollMs: number;
  /** How long a node's presence mark lasts without a heartbeat, and how long a user may be gone before being announced offline. */
  presence?: { ttlMs: number; offlineGraceMs: number };
  /** Largest file /message/uploadFile accepts. */
  uploadMaxBytes: number;
  http: HttpLimits;
  /** Password hashing cost; never from the environment (the domain's default), tests may pass a cheaper one. */
  scryptCost?: ScryptCost;
}

export interface SocketLimits {
  /** Live subscriptions one tRPC WebSocket may hold at once. */
  trpcMaxSubscriptions: number;
  /** A tRPC WebSocket without a valid token (none sent, or expired) is closed after this. */
  trpcAuthTimeoutMs: number;
  /** Frames a user may send over /wss on this node (all their connections): a burst, refilled per second. */
  legacyFrameBurst: number;
  legacyFramesPerSecond: number;
  /** Frames of one /wss connection being processed at once; more are refused, not queued. */
  legacyMaxPendingFrames: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: resolve(cwd, e.DATA_DIR),
    jwt: { secret: e.JWT_SECRET, issuer: e.JWT_ISSUER, expireHours: e.JWT_EXPIRE_HOURS },
    logLevel: e.LOG_LEVEL,
    redisUrl: e.REDIS_URL,
    redisChannel: e.REDIS_CHANNEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    limits: {
      maxMessageBytes: e.MAX_MESSAGE_BYTES,
      maxGroupMembers: e.MAX_GROUP_MEMBERS,
      groupSendBurst: e.GROUP_SEND_BURST,
      groupSendPerSecond: e.GROUP_SEND_PER_SECOND,
      groupSendMemberShare: e.GROUP_SEND_MEMBER_SHARE,
      maxGroupAdmins: e.MAX_GROUP_ADMINS,
      recallWindowMs: e.RECALL_WINDOW_MS,
      receiptIntervalMs: e.RECEIPT_INTERVAL_MS,
      maxSubscriberQueue: e.MAX_SUBSCRIBER_QUEUE,
      hashConcurrency: e.HASH_CONCURRENCY,
      hashQueue: e.HASH_QUEUE,
    },
    maxSocketBufferBytes: e.MAX_SOCKET_BUFFER_BYTES,
    wsPingMs: e.WS_PING_MS,
    sockets: {
      trpcMaxSubscriptions: e.TRPC_WS_MAX_SUBSCRIPTIONS,
      trpcAuthTimeoutMs: e.TRPC_WS_AUTH_TIMEOUT_MS,
      legacyFrameBurst: e.WSS_FRAME_BURST,
      legacyFramesPerSecond: e.WSS_FRAMES_PER_SECOND,
      legacyMaxPendingFrames: e.WSS_MAX_PENDING_FRAMES,
    },
    streamPollMs: e.STREAM_POLL_MS,
    presence: { ttlMs: e.PRESENCE_TTL_MS, offlineGraceMs: e.PRESENCE_OFFLINE_GRACE_MS },
    uploadMaxBytes: e.UPLOAD_MAX_BYTES,
    http: {
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      // Node refuses a headers timeout longer than the request timeout.
      headersTimeoutMs: Math.min(e.HEADERS_TIMEOUT_MS, e.REQUEST_TIMEOUT_MS),
      connectionTimeoutMs: e.CONNECTION_TIMEOUT_MS,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      trustProxy: e.TRUST_PROXY,
      auth: { windowMs: e.AUTH_WINDOW_MS, maxPerIp: e.AUTH_MAX_PER_IP, maxPerUsername: e.AUTH_MAX_PER_USERNAME },
      trpcMaxBatch: e.TRPC_MAX_BATCH,
      uploadQuota: { windowMs: e.UPLOAD_QUOTA_WINDOW_MS, maxFiles: e.UPLOAD_QUOTA_FILES, maxBytes: e.UPLOAD_QUOTA_BYTES },
    },
  };
}
