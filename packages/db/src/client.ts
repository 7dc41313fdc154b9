import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import type { ExtractTablesWithRelations, SQL } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema/index.js";

type Schema = typeof schema;
/** The query surface shared by both drivers: domain code is written against this type only. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that can run a query: the database or an open transaction. */
export type Queryable = Db | Tx;

/**
 * The SQL migrations shipped with this package, found through its exports rather than next to
 * this file: the server's production build bundles this module into apps/server/dist.
 */
export const MIGRATIONS_FOLDER = dirname(dirname(createRequire(import.meta.url).resolve("@omnilink/db/migrations/meta/_journal.json")));

/** Arbitrary constant: serialises concurrent migrators (several nodes starting at once). */
const MIGRATION_LOCK_KEY = 7_284_113_002;

export interface DbOptions {
  /** postgres:// URL; when absent the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data folder; `undefined` with no URL means an in-memory database. */
  dataDir?: string | undefined;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
}

export interface DbHandle {
  db: Db;
  driver: "pglite" | "postgres";
  /** Applies every pending migration (idempotent, safe to run from several processes). */
  migrate(): Promise<void>;
  /** Round-trips a trivial query; used by /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createDb(options: DbOptions = {}): DbHandle {
  return options.databaseUrl ? createPostgres(options.databaseUrl, options.maxConnections ?? 10) : createPglite(options.dataDir);
}

function createPglite(dataDir: string | undefined): DbHandle {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // The options form: `new PGlite(undefined, options)` ignores the options.
  const client = new PGlite({ ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm } });
  const db = drizzlePglite(client, { schema });
  return {
    db,
    driver: "pglite",
    migrate: () => migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    ping: async () => {
      await client.query("select 1");
    },
    close: once(() => client.close()),
  };
}

function createPostgres(url: string, max: number): DbHandle {
  // Notices (e.g. "relation already exists, skipping" from the migrator) are not errors.
  const client = postgres(url, { max, onnotice: () => {} });
  const db = drizzlePostgres(client, { schema });
  return {
    db,
    driver: "postgres",
    migrate: async () => {
      // A dedicated single connection, so the advisory lock and the migration share a session.
      const conn = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migratePostgres(drizzlePostgres(conn, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await conn.end({ timeout: 5 });
      }
    },
    ping: async () => {
      await client`select 1`;
    },
    close: once(() => client.end({ timeout: 5 })),
  };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

/**
 * Runs raw SQL and returns its rows whatever the driver: PGlite answers `{ rows }`, postgres.js
 * an array. Prefer the query builder; this is for catalog queries and the odd hand-written SQL.
 */
export async function queryRows<T>(q: Queryable, query: SQL): Promise<T[]> {
  const result: unknown = await q.execute(query);
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}
