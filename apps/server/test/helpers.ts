import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDb } from "@omnilink/db/testing";
import type { DomainContext } from "@omnilink/domain";
import { afterAll, beforeAll, expect } from "vitest";
import { startServer, type RunningServer } from "../src/app.js";
import { loadConfig, type Config } from "../src/env.js";

/** vitest matchers are typed `any`; typed here once. */
export const anyString = expect.any(String) as unknown;
export const matching = (pattern: RegExp) => expect.stringMatching(pattern) as unknown;
export const containing = (object: Record<string, unknown>) => expect.objectContaining(object) as unknown;

/** `created_at` and friends as the legacy API writes them. */
export const DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/;
/** `[status, json]` of a legacy body that does not bind. */
export const BIND_ERROR = [400, { code: 400, message: "参数错误" }];

export const pause = (ms = 200) => new Promise((r) => setTimeout(r, ms));

export function tempDir(): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), "omnilink-test-"));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

function testConfig(overrides: Partial<Config> & { dataDir: string }): Config {
  const base = loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn" });
  // Every test client is 127.0.0.1: the attempt limits are raised out of the way, except in the tests of the limits.
  const http = { ...base.http, auth: { ...base.http.auth, maxPerIp: 100_000, maxPerUsername: 100_000 } };
  return { ...base, http, ...overrides };
}

/**
 * Where a test server keeps its data: PGlite in its data folder by default, or a fresh PostgreSQL
 * database of its own when DATABASE_URL is set (dropped on dispose).
 */
export async function testDatabase(): Promise<{ url: string | undefined; [Symbol.asyncDispose](): Promise<void> }> {
  if (!process.env.DATABASE_URL) return { url: undefined, [Symbol.asyncDispose]: async () => {} };
  const testDb = await createTestDb();
  await testDb.close();
  return { url: testDb.url, [Symbol.asyncDispose]: () => testDb.dispose() };
}

export function startTestServer(dataDir: string, databaseUrl: string | undefined, overrides: Partial<Config> = {}): Promise<RunningServer> {
  return startServer(testConfig({ dataDir, databaseUrl, ...overrides }));
}

/** Whoever a legacy request is sent as: a bearer token, or anything holding one. */
export type As = string | { token: string } | undefined;

export async function postJson(baseUrl: string, path: string, body: unknown, as?: As) {
  const token = typeof as === "string" ? as : as?.token;
  const response = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json: json as { code: number; message: string; data?: Record<string, unknown> }, text };
}

/** The `data` list of a legacy answer. */
export const list = (res: { json: { data?: unknown } }) => res.json.data as Record<string, unknown>[];

/** A server on a data folder and database of its own. */
export interface TestServer {
  readonly server: RunningServer;
  /** http://host:port the server is bound to. */
  readonly url: string;
  /** The running server's domain, to act without going through HTTP. */
  readonly domain: DomainContext;
  /** Its data folder (jwt-secret, uploads/, pglite/). */
  readonly dataDir: string;
  /** `postJson` against this server. */
  post(path: string, body: unknown, as?: As): ReturnType<typeof postJson>;
}

/** Starts a server in a temporary folder with a database of its own; disposing it closes and removes all three. */
export async function startIsolatedServer(overrides: Partial<Config> = {}): Promise<TestServer & AsyncDisposable> {
  const dir = tempDir();
  let database: Awaited<ReturnType<typeof testDatabase>> | undefined;
  let server: RunningServer;
  try {
    database = await testDatabase();
    server = await startTestServer(dir.path, database.url, overrides);
  } catch (error) {
    await database?.[Symbol.asyncDispose]();
    dir[Symbol.dispose]();
    throw error;
  }
  const db = database;
  return {
    server,
    url: server.url,
    domain: server.domain,
    dataDir: dir.path,
    post: (path, body, as) => postJson(server.url, path, body, as),
    [Symbol.asyncDispose]: async () => {
      await server.close();
      await db[Symbol.asyncDispose]();
      dir[Symbol.dispose]();
    },
  };
}

/**
 * One server for the whole file: started in `beforeAll`, closed and removed in `afterAll`. The
 * returned object's fields are there once `beforeAll` has run (inside hooks and tests).
 */
export function useTestServer(overrides: Partial<Config> = {}): TestServer {
  let running: (TestServer & AsyncDisposable) | undefined;
  beforeAll(async () => {
    running = await startIsolatedServer(overrides);
  });
  afterAll(async () => {
    await running?.[Symbol.asyncDispose]();
  });
  const started = (): TestServer => {
    if (!running) throw new Error("useTestServer: the server is started in beforeAll");
    return running;
  };
  return {
    get server() {
      return started().server;
    },
    get url() {
      return started().url;
    },
    get domain() {
      return started().domain;
    },
    get dataDir() {
      return started().dataDir;
    },
    post: (path, body, as) => started().post(path, body, as),
  };
}

/** A user made through the legacy POST /register, as the tests hold it. */
export interface LegacyUser {
  uuid: string;
  token: string;
  username: string;
  nickname: string;
}

let registered = 0;

/** Registers a fresh user (`<name>_<n>_<time>`, nickname `<name><n>`) through the legacy /register. */
export async function registerUser(url: string, name: string): Promise<LegacyUser> {
  const n = ++registered;
  const username = `${name}_${n}_${Date.now() % 100000}`;
  const nickname = `${name}${n}`;
  const res = await postJson(url, "/register", { username, password: "secret123", nickname });
  expect(res.json.code).toBe(200);
  const data = res.json.data as { uuid: string; token: string };
  return { uuid: data.uuid, token: data.token, username, nickname };
}
