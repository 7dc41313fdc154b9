import type { BenchGroup, BenchUser, RunContext } from "./context.js";
import { legacySocketUrl } from "./context.js";
import { conversationIntegrity, type Sql } from "./db.js";
import { cpuMs } from "./processes.js";
import { nowMs, percentile, pool, round } from "./stats.js";
import type { ClientWorker } from "./worker-client.js";

/** The phase's groups: sender s owns groups s·k … s·k + k − 1 (k = groups / senders). */
export interface ManyGroupsLayout {
  senders: BenchUser[];
  /** groups[g]; its sender is senders[senderOf[g]]. */
  groups: BenchGroup[];
  senderOf: number[];
}

/**
 * Creates the groups through the API: `groups` groups of `membersPerGroup`, owned by `senders`
 * users (each owns groups/senders of them), the other members distinct users taken from `others`.
 */
export async function createManyGroups(
  ctx: RunContext,
  createGroup: (name: string, owner: BenchUser, members: BenchUser[]) => Promise<BenchGroup>,
  senders: BenchUser[],
  others: BenchUser[],
): Promise<ManyGroupsLayout> {
  const { groups: count, membersPerGroup } = ctx.config.manyGroups;
  const perSender = Math.ceil(count / senders.length);
  const extra = membersPerGroup - 1;
  if (others.length < count * extra) throw new Error(`many groups: ${others.length} spare users, ${count * extra} needed`);
  const groups = new Array<BenchGroup>(count);
  const senderOf = Array.from({ length: count }, (_, g) => Math.floor(g / perSender));
  await pool(count, 8, async (g) => {
    const owner = senders[senderOf[g] ?? 0] as BenchUser;
    groups[g] = await createGroup(`many ${g}`, owner, others.slice(g * extra, (g + 1) * extra));
  });
  return { senders, groups, senderOf };
}

export interface ManyGroupsOutcome {
  perS: number;
  p50: number;
  p99: number;
  acked: number[];
  errors: number;
  /** On the senders' sockets: extra copies of a message, and copies on a socket that did not send it. */
  duplicated: number;
  unexpected: number;
  errorFrames: number;
  firstErrorFrame: string | undefined;
  serverCpuPct: number;
  /** The measured sends (warm-up excluded), on the bench's monotonic clock (nowMs). */
  startedAtMs: number;
  endedAtMs: number;
}

/**
 * `messages` sends over /wss, `inFlight` at a time in total, from the senders' sockets (lane l
 * sends as sender l mod senders, each sender taking its groups in turn); a lane sends its next
 * message once the previous one is echoed back to its socket (the echo comes after the commit).
 * Only the senders are online: each is a member of its own groups only.
 */
export async function measureManyGroups(
  ctx: RunContext,
  worker: ClientWorker,
  server: { url: string; pid: number },
  layout: ManyGroupsLayout,
  tag: string,
): Promise<ManyGroupsOutcome> {
  const c = ctx.config.manyGroups;
  const urls = layout.senders.map((u) => legacySocketUrl(server.url, u));
  const opened = await worker.call("open", { urls, concurrency: 10 });
  if (opened.opened !== urls.length) throw new Error(`many groups: opened ${opened.opened}/${urls.length} sockets (${opened.firstError})`);
  const groupIdsOf = layout.senders.map((_, s) => layout.groups.filter((_, g) => layout.senderOf[g] === s).map((g) => g.id));
  const senders = layout.senders.map((_, s) => ({ socket: s, groupIds: groupIdsOf[s] ?? [] }));
  try {
    await worker.call("track", { tag: `${tag}w`, count: c.warmup, members: [] });
    await worker.call("sendSpread", { tag: `${tag}w`, count: c.warmup, senders, inFlight: c.inFlight, contentBytes: c.contentBytes, timeoutMs: 10_000 }, 120_000);

    await worker.call("track", { tag, count: c.messages, members: [] });
    const cpu0 = cpuMs(server.pid);
    const startedAtMs = nowMs();
    const result = await worker.call("sendSpread", { tag, count: c.messages, senders, inFlight: c.inFlight, contentBytes: c.contentBytes, timeoutMs: 10_000 }, 600_000);
    const endedAtMs = nowMs();
    const cpu = cpuMs(server.pid) - cpu0;
    const elapsed = endedAtMs - startedAtMs;
    const status = await worker.call("status", {});
    return {
      perS: round(result.acked.length / (result.wallMs / 1000), 0),
      p50: round(percentile(result.latenciesMs, 50)),
      p99: round(percentile(result.latenciesMs, 99)),
      acked: result.acked,
      errors: result.errors,
      duplicated: result.duplicated,
      unexpected: result.unexpected,
      errorFrames: status.errorFrames,
      firstErrorFrame: status.firstErrorFrame,
      serverCpuPct: round((100 * cpu) / elapsed, 0),
      startedAtMs,
      endedAtMs,
    };
  } finally {
    await worker.call("closeAll", {});
  }
}

/** Every acknowledged message stored exactly once (in any of the groups), and every group's seqs dense. */
export async function manyGroupsIntegrity(sql: Sql, layout: ManyGroupsLayout, tag: string, acked: number[]) {
  const copies = new Map<number, number>();
  let denseGroups = 0;
  let rows = 0;
  for (const group of layout.groups) {
    const check = await conversationIntegrity(sql, group.id, tag);
    if (check.dense) denseGroups++;
    rows += check.rows;
    for (const [i, n] of check.copies) copies.set(i, (copies.get(i) ?? 0) + n);
  }
  let missing = 0;
  let extra = 0;
  for (const i of acked) {
    const n = copies.get(i) ?? 0;
    if (n === 0) missing++;
    if (n > 1) extra += n - 1;
  }
  return { missing, extra, denseGroups, groups: layout.groups.length, rows };
}
