import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { loadConfig, type HttpLimits } from "../src/env.js";

/**
 * The Redis the limit tests count in: REDIS_URL's when set (the PostgreSQL run), so the counters
 * live in Redis there and in memory otherwise, with a channel (key prefix) of their own.
 */
export function redisFromEnv(): { redisUrl?: string; redisChannel?: string } {
  const url = process.env.REDIS_URL?.trim();
  return url ? { redisUrl: url, redisChannel: uniqueChannel() } : {};
}

export const uniqueChannel = () => `omnilink:test:${Date.now()}:${Math.random().toString(36).slice(2)}`;

/** The HTTP limits as configured by default (not the raised ones of testConfig), with `changes`. */
export function httpLimits(changes: Partial<HttpLimits> = {}): HttpLimits {
  return { ...loadConfig({}).http, ...changes };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed body (a tRPC batch answers an array). */
  json: { code?: number; message?: string; data?: unknown; error?: { json: { message: string; data: { code: string; httpStatus: number } } } };
  /** Milliseconds from sending to the whole answer. */
  ms: number;
}

/**
 * A request sent from `from`, a loopback address of the client's choosing (127.0.0.0/8 is all
 * loopback on Linux): the server sees a different client address per value, as it would see
 * different machines.
 */
export function send(
  baseUrl: string,
  from: string,
  path: string,
  options: { method?: "GET" | "POST"; body?: unknown; token?: string; cookie?: string } = {},
): Promise<Answer> {
  const { port } = new URL(baseUrl);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: Number(port),
        localAddress: from,
        path,
        method: options.method ?? "POST",
        agent: false,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.cookie ? { cookie: options.cookie } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: json as Answer["json"], ms: performance.now() - started });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A legacy POST /login from `from` (with the browser's `cookie` header, if any). */
export const legacyLogin = (baseUrl: string, from: string, username: string, password: string, cookie?: string) =>
  send(baseUrl, from, "/login", { body: { username, password }, ...(cookie ? { cookie } : {}) });

/** A single (unbatched) tRPC auth.login from `from`, as superjson sends it. */
export const trpcLogin = (baseUrl: string, from: string, username: string, password: string, cookie?: string) =>
  send(baseUrl, from, "/trpc/auth.login", { body: { json: { username, password } }, ...(cookie ? { cookie } : {}) });

/** What a browser would send back of an answer's Set-Cookie headers (name=value pairs). */
export function cookiesOf(answer: Answer): string {
  const set = answer.headers["set-cookie"];
  return (Array.isArray(set) ? set : set ? [set] : []).map((c) => c.split(";")[0]).join("; ");
}

export interface SlowSend {
  /** Milliseconds from the first byte to the server closing the connection. */
  closedAfterMs: number;
  /** What the server wrote before closing. */
  received: string;
}

/**
 * Sends `head` at once, then `body` one byte every `everyMs`, and waits (at most `giveUpMs`) for the
 * server to answer and close the connection.
 */
export function sendSlowly(baseUrl: string, head: string, body: string, everyMs: number, giveUpMs: number): Promise<SlowSend> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(Number(port), "127.0.0.1");
    let received = "";
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < body.length && !socket.destroyed) socket.write(body[sent++] ?? "");
    }, everyMs);
    const giveUp = setTimeout(() => {
      clearInterval(drip);
      socket.destroy();
      reject(new Error(`still open after ${giveUpMs} ms (received ${JSON.stringify(received)})`));
    }, giveUpMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(drip);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: performance.now() - started, received });
    });
    socket.write(head);
  });
}
