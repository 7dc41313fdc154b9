import { createHash, randomBytes } from "node:crypto";
import cookie from "@fastify/cookie";
import rateLimit from "@fastify/rate-limit";
import type { AuthAttempt } from "@omnilink/api";
import { AppError } from "@omnilink/domain";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Redis } from "ioredis";
import type { HttpLimits } from "./env.js";

/** A refusal that says when to come back: legacy answers carry it as Retry-After too. */
export class RetryLater extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super("RATE_LIMITED", message);
  }
}

/** "N 秒" below two minutes, else whole minutes. */
function waitText(seconds: number): string {
  return seconds < 120 ? `${Math.max(1, seconds)} 秒` : `${Math.ceil(seconds / 60)} 分钟`;
}

export interface HttpLimiters {
  /**
   * Counts a login or register attempt of the request's client address and, for a login, of the
   * account; RetryLater when either is over its limit. Both transports (legacy REST and tRPC)
   * count in the same places, so they share one budget. A login's account budget is the device's
   * own when the request carries this account's device cookie, else the one every other client
   * shares (see deviceCookies); a success sets the cookie.
   */
  admitAuth(request: FastifyRequest, reply: FastifyReply, kind: "login" | "register", username: string): Promise<AuthAttempt>;
  /**
   * Counts one upload of `userId` and reserves `bytes` of its byte quota; RetryLater when over.
   * The returned function settles the reservation with the bytes actually stored (0 if none).
   */
  reserveUpload(request: FastifyRequest, userId: string, bytes: number): Promise<(stored: number) => Promise<void>>;
  close(): Promise<void>;
}

/** A counter per key that a window resets: INCRBY on Redis (shared by the nodes), else in memory. */
interface WindowCounter {
  add(key: string, delta: number): Promise<{ total: number; ttlMs: number }>;
}

function redisCounter(redis: Redis, prefix: string, windowMs: number): WindowCounter {
  return {
    async add(key, delta) {
      const k = `${prefix}${key}`;
      const replies = await redis.multi().set(k, 0, "PX", windowMs, "NX").incrby(k, delta).pttl(k).exec();
      const [, total] = replies?.[1] ?? [];
      const [, ttl] = replies?.[2] ?? [];
      return { total: Number(total), ttlMs: Math.max(0, Number(ttl)) };
    },
  };
}

function memoryCounter(windowMs: number): WindowCounter {
  const windows = new Map<string, { total: number; endsAt: number }>();
  let lastSweep = Date.now();
  return {
    add(key, delta) {
      const now = Date.now();
      if (now - lastSweep > windowMs) {
        for (const [k, w] of windows) if (w.endsAt <= now) windows.delete(k);
        lastSweep = now;
      }
      let w = windows.get(key);
      if (!w || w.endsAt <= now) windows.set(key, (w = { total: 0, endsAt: now + windowMs }));
      // A reservation settled after its window ended must not leave the next one below zero.
      w.total = Math.max(0, w.total + delta);
      return Promise.resolve({ total: w.total, ttlMs: w.endsAt - now });
    },
  };
}

export interface LimiterOptions {
  limits: HttpLimits;
  /** Signs the device cookies (derive it from the server's secret: see deviceCookieSecret). */
  deviceSecret: string;
  /** Redis for counters every node shares; in memory (per node) when absent. */
  redis?: { url: string; keyPrefix: string };
  log: FastifyBaseLogger;
}

/**
 * The counters of the HTTP side, with @fastify/rate-limit (its Redis store when REDIS_URL is set).
 * When Redis cannot answer, requests go through (logged): the password-hashing gate still bounds
 * the work a node takes on.
 */
export async function registerLimiters(app: FastifyInstance, options: LimiterOptions): Promise<HttpLimiters> {
  const { auth, uploadQuota } = options.limits;
  let redis: Redis | undefined;
  if (options.redis) {
    redis = new Redis(options.redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1000 });
    redis.on("error", (error: unknown) => options.log.warn({ err: error }, "redis connection error (limits)"));
    await redis.connect();
  }
  await app.register(rateLimit, {
    global: false,
    skipOnError: true,
    // Keys the in-memory store keeps (least recently used go first): clients, usernames and uploaders of a window.
    cache: 100_000,
    ...(redis && options.redis ? { redis, nameSpace: `${options.redis.keyPrefix}rate:` } : {}),
  });

  // A limiter counts under the key its generator gives; the subject of each call is set just before it.
  const subjects = new WeakMap<FastifyRequest, string>();
  const limiter = (max: number, timeWindow: number) =>
    app.createRateLimit({ max, timeWindow, keyGenerator: (request) => subjects.get(request) ?? `ip:${request.ip}` });
  const perIp = limiter(auth.maxPerIp, auth.windowMs);
  const perUsername = limiter(auth.maxPerUsername, auth.windowMs);
  const perDevice = limiter(auth.maxPerUsername, auth.windowMs);
  await app.register(cookie, { secret: options.deviceSecret });
  const devices = deviceCookies();
  const uploads = limiter(uploadQuota.maxFiles, uploadQuota.windowMs);
  const bytes = redis && options.redis ? redisCounter(redis, `${options.redis.keyPrefix}upload-bytes:`, uploadQuota.windowMs) : memoryCounter(uploadQuota.windowMs);

  /** Counts one call of `limit` for `subject`; the seconds to wait when over, else undefined. */
  const count = async (limit: typeof perIp, request: FastifyRequest, subject: string): Promise<number | undefined> => {
    subjects.set(request, subject);
    try {
      const result = await limit(request);
      return !result.isAllowed && result.isExceeded ? result.ttlInSeconds : undefined;
    } catch (error) {
      options.log.warn({ err: error }, "rate limit store failed; request let through");
      return undefined;
    }
  };

  return {
    async admitAuth(request, reply, kind, username) {
      const what = kind === "login" ? "登录" : "注册";
      const ipWait = await count(perIp, request, `auth-ip:${request.ip}`);
      if (ipWait !== undefined) throw new RetryLater(`${what}尝试过于频繁，请 ${waitText(ipWait)}后再试`, ipWait);
      const device = devices.read(request, username);
      if (kind === "login") {
        const userWait = device
          ? await count(perDevice, request, `auth-device:${device}`)
          : await count(perUsername, request, `auth-user:${username}`);
        if (userWait !== undefined) throw new RetryLater(`该账号登录尝试过于频繁，请 ${waitText(userWait)}后再试`, userWait);
      }
      return { succeeded: () => (device ? undefined : devices.issue(request, reply, username)) };
    },
    async reserveUpload(request, userId, reserved) {
      const filesWait = await count(uploads, request, `upload-files:${userId}`);
      if (filesWait !== undefined) throw new RetryLater(`上传文件过多，请 ${waitText(filesWait)}后再试`, filesWait);
      let used: { total: number; ttlMs: number };
      try {
        used = await bytes.add(userId, reserved);
      } catch (error) {
        options.log.warn({ err: error }, "upload quota store failed; upload let through");
        return () => Promise.resolve();
      }
      if (used.total > uploadQuota.maxBytes) {
        await bytes.add(userId, -reserved).catch(() => {});
        const wait = Math.ceil(used.ttlMs / 1000);
        throw new RetryLater(`上传总量已达上限，请 ${waitText(wait)}后再试`, wait);
      }
      return async (stored) => {
        if (stored !== reserved) await bytes.add(userId, stored - reserved).catch((error: unknown) => options.log.warn({ err: error }, "upload quota not settled"));
      };
    },
    async close() {
      await redis?.quit().catch(() => {});
    },
  };
}

/** The key device cookies are signed with: derived from the server's secret, never the secret itself. */
export function deviceCookieSecret(serverSecret: string): string {
  return createHash("sha256").update(`omnilink device cookie\0${serverSecret}`).digest("base64url");
}

const DEVICE_COOKIE_MAX_AGE_S = 180 * 24 * 3600;

/**
 * Device cookies keep an account's owner able to sign in while someone else spends the account's
 * login budget: without them, anyone who knows a username could lock its owner out by failing
 * logins (the per-account limit is what stops password guessing spread over many addresses). A
 * successful login or registration gives the browser a signed cookie naming the account; a login
 * that shows it counts against that device's own budget instead of the shared one. A guesser has
 * no such cookie (it is signed and HttpOnly), so guessing stays limited as before. One cookie per
 * account, named by a hash of the username, its value a random device id bound to that hash (so
 * one account's cookie cannot be renamed to another's). Clients that keep no cookies (the legacy
 * client across origins, scripts) simply share the account's budget, as before.
 */
function deviceCookies() {
  const hashOf = (username: string) => createHash("sha256").update(username).digest("base64url").slice(0, 22);
  const nameOf = (hash: string) => `omnilink_device_${hash.slice(0, 16)}`;
  return {
    /** The device id of this account's cookie on the request, when it is there and verifies. */
    read(request: FastifyRequest, username: string): string | undefined {
      const hash = hashOf(username);
      const raw = request.cookies[nameOf(hash)];
      if (!raw) return undefined;
      const { valid, value } = request.unsignCookie(raw);
      if (!valid || !value) return undefined;
      const [device, boundTo] = value.split(".");
      return device && boundTo === hash ? device : undefined;
    },
    issue(request: FastifyRequest, reply: FastifyReply, username: string): void {
      const hash = hashOf(username);
      reply.setCookie(nameOf(hash), `${randomBytes(16).toString("base64url")}.${hash}`, {
        signed: true,
        httpOnly: true,
        sameSite: "strict",
        secure: request.protocol === "https",
        path: "/",
        maxAge: DEVICE_COOKIE_MAX_AGE_S,
      });
    },
  };
}
