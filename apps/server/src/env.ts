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
  STREAM_POLL_MS: z.coerce.number().int().positive().default(1000),
  UPLOAD_MAX_BYTES: z.coerce.number().int().positive().default(20 * 1024 * 1024),
});

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
  /** Safety net: how often each node asks the database for stream items the bus never brought. */
  streamPollMs: number;
  /** Largest file /message/uploadFile accepts. */
  uploadMaxBytes: number;
  /** Password hashing cost; never from the environment (the domain's default), tests may pass a cheaper one. */
  scryptCost?: ScryptCost;
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
      maxSubscriberQueue: e.MAX_SUBSCRIBER_QUEUE,
    },
    maxSocketBufferBytes: e.MAX_SOCKET_BUFFER_BYTES,
    wsPingMs: e.WS_PING_MS,
    streamPollMs: e.STREAM_POLL_MS,
    uploadMaxBytes: e.UPLOAD_MAX_BYTES,
  };
}
