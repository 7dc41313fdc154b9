import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { createDb, MIGRATIONS_FOLDER } from "@omnilink/db";
import { withDatabase } from "@omnilink/db/testing";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import postgres from "postgres";

/** Raw SQL through the driver itself (postgres.js or PGlite), no ORM. */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

function postgresSql(url: string, max: number): Sql {
  const client = postgres(url, { max, onnotice: () => {} });
  return {
    // Unprepared, extended protocol: how drizzle's postgres-js driver (the server) sends its queries.
    query: async <T>(text: string, params: unknown[] = []) => (await client.unsafe(text, params as never[])) as unknown as T[],
    close: () => client.end({ timeout: 5 }),
  };
}

function pgliteSql(client: PGlite): Sql {
  return {
    query: async <T>(text: string, params: unknown[] = []) => (await client.query<T>(text, params)).rows,
    close: () => client.close(),
  };
}

export type DatabaseKind = "postgres" | "pglite";

/**
 * The run's database: a fresh PostgreSQL database next to DATABASE_URL (dropped afterwards), or a
 * PGlite data folder the server owns. PGlite is one process's: the bench opens it only while no
 * server runs (see `access`).
 */
export class BenchDatabase {
  private admin: Sql | undefined;
  private disposing: Promise<void> | undefined;
  serverRunning = false;

  private constructor(
    readonly kind: DatabaseKind,
    readonly workDir: string,
    private readonly adminUrl: string | undefined,
    readonly name: string | undefined,
  ) {}

  static async create(databaseUrl: string | undefined, workDir: string): Promise<BenchDatabase> {
    mkdirSync(workDir, { recursive: true });
    if (!databaseUrl) return new BenchDatabase("pglite", workDir, undefined, undefined);
    const name = `omnilink_bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
    const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database "${name}"`);
    } finally {
      await admin.end({ timeout: 5 });
    }
    return new BenchDatabase("postgres", workDir, databaseUrl, name);
  }

  /** The URL of the run's own database (PostgreSQL only). */
  get url(): string | undefined {
    return this.adminUrl && this.name ? withDatabase(this.adminUrl, this.name) : undefined;
  }

  get pgliteDir(): string {
    return join(this.workDir, "data", "pglite");
  }

  /** What the server process needs to use this database. */
  serverEnv(): Record<string, string> {
    return { DATA_DIR: join(this.workDir, "data"), ...(this.url ? { DATABASE_URL: this.url } : {}) };
  }

  /** Applies the committed migrations (as the server would at start-up). */
  async migrate(): Promise<void> {
    const handle = createDb(this.url ? { databaseUrl: this.url, maxConnections: 2 } : { dataDir: this.pgliteDir });
    try {
      await handle.migrate();
    } finally {
      await handle.close();
    }
  }

  /** Runs `fn` with direct access to the database. On PGlite the server must be stopped. */
  async access<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.url) {
      this.admin ??= postgresSql(this.url, 4);
      return fn(this.admin);
    }
    if (this.serverRunning) throw new Error("PGlite is owned by the server process: stop it before touching the database");
    const sql = pgliteSql(new PGlite({ dataDir: this.pgliteDir, extensions: { pg_trgm } }));
    try {
      return await fn(sql);
    } finally {
      await sql.close();
    }
  }

  async version(): Promise<string> {
    return this.access(async (sql) => {
      const [row] = await sql.query<{ v: string }>(this.kind === "postgres" ? "show server_version" : "select version() as v");
      const value = row ? Object.values(row)[0] : "";
      return String(value ?? "");
    });
  }

  /** Drops the run's database (PostgreSQL) and removes the work folder. Idempotent. */
  dispose(): Promise<void> {
    return (this.disposing ??= this.disposeOnce());
  }

  private async disposeOnce(): Promise<void> {
    await this.admin?.close().catch(() => {});
    if (this.adminUrl && this.name) {
      const admin = postgres(this.adminUrl, { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`drop database if exists "${this.name}" with (force)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

export interface SeededUser {
  index: number;
  uuid: string;
  username: string;
}

/**
 * Accounts inserted directly (scrypt for thousands of registrations would take minutes): real
 * rows of user_info with a valid scrypt hash of the bench password, so login works for every one.
 */
export async function seedUsers(sql: Sql, count: number, passwordHash: string, tag: string): Promise<SeededUser[]> {
  await sql.query(
    `insert into user_info (uuid, username, nickname, password_hash)
     select 'U' || $1 || lpad(g::text, 6, '0'), 'b' || $1 || '_' || g, 'member ' || g, $2
     from generate_series(0, $3::int - 1) g`,
    [tag, passwordHash, count],
  );
  return Array.from({ length: count }, (_, index) => ({ index, uuid: `U${tag}${String(index).padStart(6, "0")}`, username: `b${tag}_${index}` }));
}

/**
 * A group's history, written as the send path would have (ids from event_stream_seq, dense seqs
 * 1..count, conversation.last_seq = count), in batches of INSERT … SELECT generate_series.
 * Only while no server runs: its stream dispatcher would otherwise replay every row.
 */
export async function bulkLoadHistory(
  sql: Sql,
  group: { id: string; senderId: string; senderName: string },
  count: number,
  onProgress: (done: number) => void,
): Promise<void> {
  const [conversation] = await sql.query<{ last_seq: string | number }>("select last_seq from conversation where id = $1", [group.id]);
  if (!conversation || Number(conversation.last_seq) !== 0) throw new Error(`history group ${group.id} must be empty before the bulk load`);
  const tag = randomBytes(8).toString("hex").replace(/[^a-z]/g, "").padEnd(4, "h").slice(0, 4);
  const batch = 100_000;
  for (let from = 1; from <= count; from += batch) {
    const to = Math.min(count, from + batch - 1);
    await sql.query(
      // tx 2 (frozen): history as old as the database's first tick, never news for the live stream.
      `insert into message (uuid, conversation_id, seq, session_id, type, content, send_id, send_name, receive_id, created_at, tx)
       select 'M' || $1 || lpad(g::text, 7, '0'), $2, g, '', 0, 'history message number ' || g, $3, $4, $2,
              now() - make_interval(secs => ($5::int - g)), '2'::xid8
       from generate_series($6::int, $7::int) g
       order by g`,
      [tag, group.id, group.senderId, group.senderName, count, from, to],
    );
    onProgress(to);
  }
  await sql.query(
    `update conversation set last_seq = $2::int, last_message = 'history message number ' || $3,
       last_message_id = 'M' || $4 || lpad($3, 7, '0'), last_message_at = now()
     where id = $1`,
    [group.id, count, String(count), tag],
  );
  await sql.query("analyze message");
  await sql.query("analyze conversation");
}

/** Seqs of a conversation are dense 1..last_seq, and which tagged messages it holds (index → copies). */
export async function conversationIntegrity(sql: Sql, conversationId: string, tag: string) {
  const [shape] = await sql.query<{ n: number; d: number; lo: number; hi: number; last: number }>(
    `select count(*)::int as n, count(distinct seq)::int as d, coalesce(min(seq), 0)::int as lo, coalesce(max(seq), 0)::int as hi,
            (select last_seq::int from conversation where id = $1) as last
     from message where conversation_id = $1`,
    [conversationId],
  );
  const rows = await sql.query<{ content: string }>("select content from message where conversation_id = $1 and content like $2", [
    conversationId,
    `${tag}:%`,
  ]);
  const copies = new Map<number, number>();
  for (const r of rows) {
    const index = Number.parseInt(r.content.slice(tag.length + 1), 10);
    copies.set(index, (copies.get(index) ?? 0) + 1);
  }
  const dense = !!shape && shape.n === shape.d && shape.n === shape.last && (shape.n === 0 || (shape.lo === 1 && shape.hi === shape.last));
  return { dense, rows: shape?.n ?? 0, lastSeq: shape?.last ?? 0, copies };
}

/**
 * The send baseline's table: a copy of `message` (columns, defaults, CHECKs, every index) with the
 * same foreign keys, and its own id sequence so the server's event stream is left alone.
 */
async function createBaselineTable(sql: Sql): Promise<void> {
  await sql.query("create sequence if not exists bench_message_seq");
  await sql.query("create table if not exists bench_message (like message including all)");
  await sql.query("alter table bench_message alter column id set default nextval('bench_message_seq')");
  // Opened again by a later phase: the constraints are there already.
  const [present] = await sql.query("select 1 from pg_constraint where conname = 'bench_message_conversation_fk'");
  if (present) return;
  await sql.query(
    `alter table bench_message
       add constraint bench_message_conversation_fk foreign key (conversation_id) references conversation(id),
       add constraint bench_message_sender_fk foreign key (send_id) references user_info(uuid)`,
  );
}

export const BASELINE_INSERT = `insert into bench_message
  (uuid, conversation_id, seq, session_id, type, content, url, send_id, send_name, send_avatar, receive_id,
   file_type, file_name, file_size, mentioned_user_ids, mention_all, client_msg_id)
  values ($1, $2, $3, '', 0, $4, '', $5, $6, $7, $2, '', '', '', '{}', false, null)
  returning id`;

/**
 * Where the send baseline runs: the run's PostgreSQL database through postgres.js (pool of 10,
 * the server's size), or a PGlite of its own in this process (the server's PGlite is in the server).
 */
export async function openBaselineSql(db: BenchDatabase): Promise<{ sql: Sql; conversationId: (groupId: string) => Promise<string> }> {
  if (db.url) {
    const sql = postgresSql(db.url, 10);
    await createBaselineTable(sql);
    return { sql, conversationId: (groupId) => Promise.resolve(groupId) };
  }
  const dir = join(db.workDir, "baseline-pglite");
  mkdirSync(dir, { recursive: true });
  const client = new PGlite({ dataDir: dir, extensions: { pg_trgm } });
  await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
  const sql = pgliteSql(client);
  await createBaselineTable(sql);
  return {
    sql,
    // The same rows the baseline's foreign keys need, in the baseline's own database.
    conversationId: async (groupId) => {
      await sql.query("insert into conversation (id, kind) values ($1, 1) on conflict do nothing", [groupId]);
      return groupId;
    },
  };
}

export async function ensureBaselineSender(db: BenchDatabase, sql: Sql, user: SeededUser, passwordHash: string): Promise<void> {
  if (db.url) return; // the run's database already has every user
  await sql.query("insert into user_info (uuid, username, nickname, password_hash) values ($1, $2, $3, $4) on conflict do nothing", [
    user.uuid,
    user.username,
    `member ${user.index}`,
    passwordHash,
  ]);
}
