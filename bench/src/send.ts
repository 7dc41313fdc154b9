import { newId } from "@omnilink/domain";
import type { BenchGroup, BenchUser, RunContext } from "./context.js";
import { legacySocketUrl, taggedContent } from "./context.js";
import { DEFAULT_AVATAR } from "@omnilink/db";
import { BASELINE_INSERT, type Sql } from "./db.js";
import { mutate } from "./http.js";
import { cpuMs } from "./processes.js";
import { nowMs, pool, round } from "./stats.js";
import type { ClientWorker } from "./worker-client.js";
import type { IntegrityResult } from "./worker-protocol.js";

export interface SendOutcome {
  perS: number;
  acked: number[];
  errors: number;
  firstError: string | undefined;
  /** Observers online during the run: what they lost or got twice. */
  live: IntegrityResult;
  serverCpuPct: number;
  startedAtMs: number;
  endedAtMs: number;
}

/**
 * `count` group messages through tRPC messages.send over HTTP, `concurrency` in flight from
 * different members; `observers` of the group stay online on /wss and count what they receive.
 */
export async function measureOurSends(
  ctx: RunContext,
  worker: ClientWorker,
  server: { url: string; pid: number },
  group: BenchGroup,
  tag: string,
): Promise<SendOutcome> {
  const { send } = ctx.config;
  const observers = group.members.slice(0, send.observers);
  const opened = await worker.call("open", { urls: observers.map((m) => legacySocketUrl(server.url, m)), concurrency: 10 });
  if (opened.opened !== observers.length) throw new Error(`send: opened ${opened.opened}/${observers.length} observers (${opened.firstError})`);
  try {
    await worker.call("track", { tag, count: send.messages, members: observers.map((_, i) => i) });
    const senders = group.members;
    const sendAs = (user: BenchUser, content: string) =>
      mutate<{ message: { seq: number }; duplicate: boolean }>(server.url, "messages.send", { receiveId: group.id, content }, user.token);
    // Warm-up (untagged: the observers ignore it).
    await pool(send.warmup, send.concurrency, (i) => sendAs(senders[i % senders.length]!, `warm-up ${i}`).then(() => {}));

    const acked: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    let next = 0;
    const cpu0 = cpuMs(server.pid);
    const startedAtMs = nowMs();
    await Promise.all(
      Array.from({ length: send.concurrency }, async (_, lane) => {
        const sender = senders[lane % senders.length]!;
        while (next < send.messages) {
          const i = next++;
          try {
            await sendAs(sender, taggedContent(tag, i, send.contentBytes));
            acked.push(i);
          } catch (error) {
            errors++;
            firstError ??= String(error);
          }
        }
      }),
    );
    const endedAtMs = nowMs();
    const cpu = cpuMs(server.pid) - cpu0;
    const live = await worker.call("report", { expected: acked, waitMs: 20_000 }, 60_000);
    const wallS = (endedAtMs - startedAtMs) / 1000;
    return {
      perS: round(acked.length / wallS, 0),
      acked,
      errors,
      firstError,
      live,
      serverCpuPct: round((100 * cpu) / (endedAtMs - startedAtMs), 0),
      startedAtMs,
      endedAtMs,
    };
  } finally {
    await worker.call("closeAll", {});
  }
}

/**
 * The baseline: the same number of equivalent message rows, one autocommitted single-row INSERT
 * each, with the same concurrency, through the same driver.
 */
export async function measureBaselineInserts(ctx: RunContext, sql: Sql, conversationId: string, sender: BenchUser): Promise<number> {
  const { send } = ctx.config;
  let seq = (await sql.query<{ s: number }>("select coalesce(max(seq), 0)::int as s from bench_message where conversation_id = $1", [conversationId]))[0]?.s ?? 0;
  const insert = (content: string) =>
    sql.query(BASELINE_INSERT, [newId("M"), conversationId, ++seq, content, sender.uuid, `member ${sender.index}`, DEFAULT_AVATAR]);
  await pool(send.warmup, send.concurrency, (i) => insert(`warm-up ${i}`).then(() => {}));
  const started = nowMs();
  await pool(send.messages, send.concurrency, (i) => insert(taggedContent("baseline", i, send.contentBytes)).then(() => {}));
  return round(send.messages / ((nowMs() - started) / 1000), 0);
}
