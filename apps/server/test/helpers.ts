import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDb } from "@omnilink/db/testing";
import { startServer, type RunningServer } from "../src/app.js";
import { loadConfig, type Config } from "../src/env.js";

export function tempDir(): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), "omnilink-test-"));
  return { path, [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }) };
}

export function testConfig(overrides: Partial<Config> & { dataDir: string }): Config {
  return { ...loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn" }), ...overrides };
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

export async function postJson(baseUrl: string, path: string, body: unknown, token?: string) {
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
