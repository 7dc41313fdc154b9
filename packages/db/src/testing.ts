import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { createDb, type DbHandle } from "./client.js";

export interface TestDb extends DbHandle {
  /** Closes the connection and drops the database it created (PostgreSQL), or frees the in-memory one. */
  dispose(): Promise<void>;
  /** The URL of the per-test database on PostgreSQL, undefined on PGlite. */
  url: string | undefined;
}

/**
 * A fresh, migrated database owned by one test file: in-memory PGlite by default, or a new
 * database created next to `DATABASE_URL` when that is set, so files can run in parallel.
 */
export async function createTestDb(databaseUrl = process.env.DATABASE_URL): Promise<TestDb> {
  if (!databaseUrl) {
    const handle = createDb();
    await handle.migrate();
    return { ...handle, url: undefined, dispose: () => handle.close() };
  }
  const name = `omnilink_t_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(databaseUrl, name);
  const handle = createDb({ databaseUrl: url, maxConnections: 20 });
  await handle.migrate();
  return {
    ...handle,
    url,
    dispose: async () => {
      await handle.close();
      const cleanup = postgres(databaseUrl, { max: 1, onnotice: () => {} });
      try {
        await cleanup.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
