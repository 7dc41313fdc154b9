import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contactApplies, contacts, conversations, groups, isUniqueViolation, messages, queryRows, sessions, users } from "../src/index.js";
import { createTestDb, type TestDb } from "../src/testing.js";

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t.dispose();
});

async function catchError(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected the statement to fail");
}

describe("migrations", () => {
  it("create every table on an empty database", async () => {
    const rows = await queryRows<{ table_name: string }>(
      t.db,
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    const names = rows.map((r) => r.table_name);
    expect(names).toEqual(
      expect.arrayContaining(["user_info", "user_contact", "contact_apply", "group_info", "conversation", "session", "message"]),
    );
  });

  it("are idempotent: running them again changes nothing", async () => {
    await t.migrate();
    await t.migrate();
    const count = await t.db.$count(users);
    expect(count).toBe(0);
  });
});

describe("catalog: the constraints and indexes the data model requires (ARCHITECTURE.md, Data model)", () => {
  // Each entry: table, the exact column list, and whether it must be unique.
  const required: Array<[string, string[], boolean]> = [
    ["user_contact", ["user_id", "contact_id", "contact_type"], true],
    ["user_contact", ["contact_id", "contact_type", "status"], false],
    ["contact_apply", ["contact_id", "contact_type", "status"], false],
    ["contact_apply", ["user_id", "contact_id", "contact_type"], true],
    ["session", ["send_id", "receive_id"], true],
    ["session", ["send_id", "updated_at"], false],
    ["message", ["receive_id", "created_at"], false],
    ["message", ["session_id", "created_at"], false],
    ["message", ["conversation_id", "seq"], true],
    ["message", ["send_id", "conversation_id", "client_msg_id"], true],
    ["user_info", ["uuid"], true],
    ["user_info", ["username"], true],
    ["group_info", ["uuid"], true],
    ["message", ["uuid"], true],
    ["session", ["uuid"], true],
    ["contact_apply", ["uuid"], true],
  ];

  it.each(required)("%s(%s) unique=%s", async (table, columns, unique) => {
    const result = await queryRows<{ cols: string[] | string; is_unique: boolean }>(t.db, sql`
      select array(
               select a.attname from unnest(i.indkey) with ordinality k(attnum, ord)
               join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
               order by k.ord
             )::text[] as cols,
             i.indisunique as is_unique
      from pg_index i
      join pg_class c on c.oid = i.indrelid
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relname = ${table}`);
    const indexes = result.map((r) => ({ cols: toArray(r.cols), unique: r.is_unique }));
    const match = indexes.find((i) => i.cols.join(",") === columns.join(","));
    expect(match, `${table}(${columns.join(", ")}) in ${JSON.stringify(indexes)}`).toBeDefined();
    if (unique) expect(match?.unique).toBe(true);
  });
});

describe("constraints", () => {
  const u1 = "Uaaaaaaaaaa1";
  const u2 = "Uaaaaaaaaaa2";
  const g1 = "Gaaaaaaaaaa1";

  beforeAll(async () => {
    await t.db.insert(users).values([
      { uuid: u1, username: "alice", nickname: "Alice", passwordHash: "x" },
      { uuid: u2, username: "bob", nickname: "Bob", passwordHash: "x" },
    ]);
    await t.db.insert(conversations).values({ id: g1, kind: 1 });
    await t.db.insert(groups).values({ uuid: g1, name: "g", ownerId: u1 });
  });

  it("rejects a duplicate membership", async () => {
    await t.db.insert(contacts).values({ userId: u2, contactId: g1, contactType: 1 });
    const error = await catchError(t.db.insert(contacts).values({ userId: u2, contactId: g1, contactType: 1, status: 6 }));
    expect(isUniqueViolation(error, "user_contact_user_contact_type_key")).toBe(true);
    // The same pair as a friend edge is a different row.
    await t.db.insert(contacts).values({ userId: u2, contactId: u1, contactType: 0 });
  });

  it("rejects a duplicate session for the same viewer and peer", async () => {
    await t.db.insert(sessions).values({ uuid: "Saaaaaaaaaa1", sendId: u1, receiveId: g1, conversationId: g1 });
    const error = await catchError(
      t.db.insert(sessions).values({ uuid: "Saaaaaaaaaa2", sendId: u1, receiveId: g1, conversationId: g1 }),
    );
    expect(isUniqueViolation(error, "session_send_receive_key")).toBe(true);
  });

  it("rejects a second pending apply row for the same applicant and target", async () => {
    await t.db.insert(contactApplies).values({ uuid: "Aaaaaaaaaaa1", userId: u2, contactId: g1, contactType: 1 });
    const error = await catchError(
      t.db.insert(contactApplies).values({ uuid: "Aaaaaaaaaaa2", userId: u2, contactId: g1, contactType: 1 }),
    );
    expect(isUniqueViolation(error, "contact_apply_user_contact_type_key")).toBe(true);
  });

  it("rejects two messages with the same seq in one conversation, and a repeated client message id", async () => {
    const base = { conversationId: g1, sendId: u1, receiveId: g1, content: "hi" };
    await t.db.insert(messages).values({ ...base, uuid: "Maaaaaaaaaa1", seq: 1, clientMsgId: "c1" });
    const dupSeq = await catchError(t.db.insert(messages).values({ ...base, uuid: "Maaaaaaaaaa2", seq: 1 }));
    expect(isUniqueViolation(dupSeq, "message_conversation_seq_key")).toBe(true);
    const dupClient = await catchError(t.db.insert(messages).values({ ...base, uuid: "Maaaaaaaaaa3", seq: 2, clientMsgId: "c1" }));
    expect(isUniqueViolation(dupClient, "message_sender_client_msg_key")).toBe(true);
    // Messages without a client id never collide with each other.
    await t.db.insert(messages).values([
      { ...base, uuid: "Maaaaaaaaaa4", seq: 3 },
      { ...base, uuid: "Maaaaaaaaaa5", seq: 4 },
    ]);
  });

  it("gives messages ids from the shared event stream, in insert order", async () => {
    const rows = await t.db.select({ id: messages.id, seq: messages.seq }).from(messages).orderBy(messages.seq);
    const ids = rows.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("rejects out-of-range enum values", async () => {
    const badStatus = await catchError(t.db.insert(contacts).values({ userId: u1, contactId: g1, contactType: 1, status: 9 }));
    expect(String((badStatus as { cause?: unknown }).cause ?? badStatus)).toMatch(/user_contact_status_check/);
    const badSeq = await catchError(t.db.update(conversations).set({ lastSeq: -1 }));
    expect(String((badSeq as { cause?: unknown }).cause ?? badSeq)).toMatch(/conversation_last_seq_check/);
  });
});

function toArray(v: string[] | string): string[] {
  // postgres.js parses text[] into an array; PGlite does too, but be tolerant of the literal form.
  return Array.isArray(v) ? v : v.replace(/^{|}$/g, "").split(",");
}
