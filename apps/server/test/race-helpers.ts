import { ACTIVE_MEMBER_STATUSES, ContactType, queryRows, type Db } from "@omnilink/db";
import { register, type DomainContext } from "@omnilink/domain";
import { sql } from "drizzle-orm";
import type { Frame } from "./wss-client.js";

/** Shared by the race tests (message-core-*.test.ts). */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const jitter = (maxMs: number) => Math.floor(Math.random() * maxMs);

/** A short list of ids for a failure message. */
export const few = (ids: number[]) => (ids.length > 5 ? `${ids.slice(0, 5).join(",")},… (${ids.length})` : ids.join(","));

/** Polls until `check` holds; false on timeout (the caller records what was wrong). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
}

let n = 0;
/** A fresh user made straight in the domain; returns its uuid and a token. */
export async function raceUser(domain: DomainContext, name: string) {
  n++;
  const { user, token } = await register(domain, { username: `${name}_${n}_${Date.now() % 100000}`, password: "secret123", nickname: name });
  return { uuid: user.uuid, token };
}

export const errorCode = (f: Frame) => Number(/^Code: (\d+)/.exec(String(f.message))?.[1] ?? NaN);
export const isError = (f: Frame) => f.type === "error";

/**
 * The invariants every change must keep, for the given conversations (groups: also member_cnt):
 * member_cnt = active membership rows; seqs 1..last_seq, dense; read_seq <= last_seq.
 */
export async function invariantViolations(db: Db, conversationIds: string[]): Promise<string[]> {
  const ids = sql.join(
    conversationIds.map((id) => sql`${id}`),
    sql`, `,
  );
  const problems: string[] = [];
  const counts = await queryRows<{ uuid: string; cnt: number; real: number }>(
    db,
    sql`select g.uuid, g.member_cnt::int as cnt,
          (select count(*)::int from user_contact c where c.contact_id = g.uuid and c.contact_type = ${ContactType.group}
            and c.status in (${sql.join(ACTIVE_MEMBER_STATUSES.map((st) => sql`${st}`), sql`, `)})) as real
        from group_info g where g.uuid in (${ids})`,
  );
  for (const c of counts) if (c.cnt !== c.real) problems.push(`group ${c.uuid}: member_cnt ${c.cnt} but ${c.real} active members`);
  const seqs = await queryRows<{ id: string; last: number; n: number; d: number; lo: number; hi: number }>(
    db,
    sql`select c.id, c.last_seq::int as last, count(m.id)::int as n, count(distinct m.seq)::int as d,
          coalesce(min(m.seq), 1)::int as lo, coalesce(max(m.seq), 0)::int as hi
        from conversation c left join message m on m.conversation_id = c.id
        where c.id in (${ids}) group by c.id, c.last_seq`,
  );
  for (const s of seqs) {
    if (s.n !== s.last || s.d !== s.n || s.lo !== 1 || s.hi !== s.last) {
      problems.push(`conversation ${s.id}: last_seq ${s.last} but ${s.n} messages (${s.d} distinct seqs, ${s.lo}..${s.hi})`);
    }
  }
  const ahead = await queryRows<{ uuid: string; read: number; last: number }>(
    db,
    sql`select s.uuid, s.read_seq::int as read, c.last_seq::int as last from session s join conversation c on c.id = s.conversation_id
        where c.id in (${ids}) and s.read_seq > c.last_seq`,
  );
  for (const a of ahead) problems.push(`session ${a.uuid}: read_seq ${a.read} > last_seq ${a.last}`);
  return problems;
}

