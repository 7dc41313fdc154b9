import { newId } from "@omnilink/domain";
import type { BenchGroup, BenchUser, RunContext } from "./context.js";
import { legacySocketUrl, taggedContent } from "./context.js";
import { DEFAULT_AVATAR } from "@omnilink/db";
import { BASELINE_INSERT, type Sql } from "./db.js";
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
 * `count` group messages over the legacy /wss protocol (the im.js client's send path), from
 * `concurrency` members each sending its next message once the previous one is echoed back to it
 * (the echo comes after the commit); `observers` of the group stay online and count what they get.
 */
export async function measureOurSends(
  ctx: RunContext,
  worker: ClientWorker,
  server: { url: string; pid: number },
  group: BenchGroup,
  tag: string,
): Promise<SendOutcome> {
  const { send } = ctx.config;
  // Every socket is a member, so each also observes every message; lanes take turns on the first
  // `concurrency` sockets (several lanes share a socket when the group is smaller).
  const everyone = group.members.slice(0, send.concurrency + send.observers);
  const opened = await worker.call("open", { urls: everyone.map((m) => legacySocketUrl(server.url, m)), concurrency: 10 });
  if (opened.opened !== everyone.length) throw new Error(`send: opened ${opened.opened}/${everyone.length} sockets (${opened.firstError})`);
  const senderSockets = Math.min(send.concurrency, everyone.length);
  const senderIndexes = Array.from({ length: send.concurrency }, (_, lane) => lane % senderSockets);
  try {
    // Warm-up (its own tag, not counted).
    await worker.call("track", { tag: `${tag}w`, count: send.warmup, members: [] });
    await worker.call("sendMany", { tag: `${tag}w`, count: send.warmup, senders: senderIndexes, groupId: group.id, contentBytes: send.contentBytes, timeoutMs: 10_000 }, 60_000);

    await worker.call("track", { tag, count: send.messages, members: everyone.map((_, i) => i) });
    const cpu0 = cpuMs(server.pid);
    const startedAtMs = nowMs();
    const result = await worker.call(
      "sendMany",
      { tag, count: send.messages, senders: senderIndexes, groupId: group.id, contentBytes: send.contentBytes, timeoutMs: 10_000 },
      300_000,
    );
    const endedAtMs = nowMs();
    const cpu = cpuMs(server.pid) - cpu0;
    const live = await worker.call("report", { expected: result.acked, waitMs: 20_000 }, 60_000);
    return {
      perS: round(result.acked.length / (result.wallMs / 1000), 0),
      acked: result.acked,
      errors: result.errors,
      firstError: result.errors > 0 ? `${result.errors} sends got no echo within 10 s` : undefined,
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
  return baselineInserts(sql, [{ conversationId, sender }], send);
}

/**
 * `messages` single-row INSERTs (after `warmup` unmeasured ones), at most `concurrency` in flight;
 * row i goes to `targets[i % targets.length]` (its conversation, sent by its sender), with the
 * next seq of that conversation. Returns rows/s.
 */
export async function baselineInserts(
  sql: Sql,
  targets: Array<{ conversationId: string; sender: BenchUser }>,
  sizes: { messages: number; concurrency: number; warmup: number; contentBytes: number },
): Promise<number> {
  const seqs = new Map<string, number>();
  for (const { conversationId } of targets) {
    if (seqs.has(conversationId)) continue;
    const [row] = await sql.query<{ s: number }>("select coalesce(max(seq), 0)::int as s from bench_message where conversation_id = $1", [conversationId]);
    seqs.set(conversationId, row?.s ?? 0);
  }
  const insert = (i: number, content: string) => {
    const { conversationId, sender } = targets[i % targets.length] as { conversationId: string; sender: BenchUser };
    const seq = (seqs.get(conversationId) ?? 0) + 1;
    seqs.set(conversationId, seq);
    return sql.query(BASELINE_INSERT, [newId("M"), conversationId, seq, content, sender.uuid, `member ${sender.index}`, DEFAULT_AVATAR]);
  };
  await pool(sizes.warmup, sizes.concurrency, (i) => insert(i, `warm-up ${i}`).then(() => {}));
  const started = nowMs();
  await pool(sizes.messages, sizes.concurrency, (i) => insert(i, taggedContent("baseline", i, sizes.contentBytes)).then(() => {}));
  return round(sizes.messages / ((nowMs() - started) / 1000), 0);
}
