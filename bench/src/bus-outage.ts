import type { BenchGroup, RunContext } from "./context.js";
import { legacySocketUrl } from "./context.js";
import { conversationIntegrity } from "./db.js";
import { busStats, startNode } from "./nodes.js";
import { serverWarnings, type ServerProcess } from "./processes.js";
import type { RedisProcess } from "./redis.js";
import type { BusOutageFigures, LatencyWindowFigures, NodeViewFigures, ReportNotes, Skipped } from "./report.js";
import { log, nowMs, percentile, round, sleep } from "./stats.js";
import type { ClientWorker } from "./worker-client.js";
import type { ReceivedLog } from "./worker-protocol.js";

type OutageWindow = "before" | "during" | "after";
interface LatencyWindow {
  /** Messages sent in the window (by send time). */
  messages: number;
  /** Of those, how many got their figure (an echo, or a delivery). */
  measured: number;
  p50: number;
  p99: number;
  max: number;
}

/** What the members connected to one node saw. */
interface NodeView {
  members: number;
  /** (member, acknowledged message) pairs never delivered. */
  lost: number;
  duplicated: number;
  /** First deliveries whose seq is lower than one the member already had. */
  outOfOrder: number;
  /** Deliveries of messages that were not acknowledged (sent, but no echo). */
  unexpected: number;
  /** Send → delivery to the member, per window (first copy of each message, every member). */
  delivery: Record<OutageWindow, LatencyWindow>;
}

interface BusOutageOutcome {
  sent: number;
  acked: number;
  /** Sender echo latency per window (by send time). */
  echo: Record<OutageWindow, LatencyWindow>;
  node1: NodeView;
  node2: NodeView;
  database: { missing: number; extra: number; dense: boolean; rows: number };
  /** Node 1's bus counters (/metrics) after the run. */
  bus: { published: number; dropped: number } | undefined;
  outageMs: number;
  unexpectedCloses: number;
  errorFrames: number;
  warmupOk: boolean;
}

function window(samples: number[], messages: number): LatencyWindow {
  return {
    messages,
    measured: samples.length,
    p50: round(percentile(samples, 50)),
    p99: round(percentile(samples, 99)),
    max: round(samples.length > 0 ? Math.max(...samples) : 0),
  };
}

/**
 * A sender on node 1 sends `perS` messages a second over /wss (open loop: each on time, echoed or
 * not) for beforeS, then Redis is stopped (SIGSTOP: its connections stay open and nothing answers)
 * for outageS, then resumed (SIGCONT) for afterS. The group's members are split over the two
 * nodes; the node-2 members can only get what happened during the outage from the database poll.
 * Then every member must have every acknowledged message exactly once, in seq order.
 */
async function measureBusOutage(
  ctx: RunContext,
  worker: ClientWorker,
  nodes: [ServerProcess, ServerProcess],
  redis: RedisProcess,
  group: BenchGroup,
  tag: string,
): Promise<BusOutageOutcome> {
  const c = ctx.config.busOutage;
  const [node1, node2] = nodes;
  const perNode = c.membersPerNode;
  const nodeOf = (i: number) => (i < perNode ? 0 : 1);
  const members = group.members.slice(0, 2 * perNode);
  const urls = members.map((m, i) => legacySocketUrl((nodeOf(i) === 0 ? node1 : node2).url, m));
  const opened = await worker.call("open", { urls, concurrency: 10 });
  if (opened.opened !== urls.length) throw new Error(`bus outage: opened ${opened.opened}/${urls.length} sockets (${opened.firstError})`);
  const everyone = members.map((_, i) => i);
  try {
    // Warm-up with Redis up: every member, on both nodes, gets the messages.
    const warm = Math.max(10, Math.round(c.perS / 2));
    await worker.call("track", { tag: `${tag}w`, count: warm, members: everyone });
    const w = await worker.call("sendPaced", { tag: `${tag}w`, count: warm, socket: 0, groupId: group.id, perS: c.perS, contentBytes: c.contentBytes, timeoutMs: 10_000 }, 60_000);
    const warmAcked = w.echoMs.flatMap((ms, i) => (ms >= 0 ? [i] : []));
    const warmCheck = await worker.call("report", { expected: warmAcked, waitMs: 10_000 }, 30_000);
    const warmupOk = warmAcked.length === warm && warmCheck.lost === 0;
    if (!warmupOk) log(`bus outage: warm-up incomplete (${warmAcked.length}/${warm} echoed, ${warmCheck.lost} lost) — measuring anyway`);

    const count = Math.round(c.perS * (c.beforeS + c.outageS + c.afterS));
    await worker.call("track", { tag, count, members: everyone, log: true });
    const totalMs = (c.beforeS + c.outageS + c.afterS) * 1000;
    const run = worker.call("sendPaced", { tag, count, socket: 0, groupId: group.id, perS: c.perS, contentBytes: c.contentBytes, timeoutMs: 30_000 }, totalMs + 90_000);
    run.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    await sleep(c.beforeS * 1000);
    log(`bus outage: SIGSTOP redis-server (pid ${redis.pid}) for ${c.outageS} s`);
    const stoppedAt = nowMs();
    redis.pause();
    let resumedAt: number;
    try {
      await sleep(c.outageS * 1000);
    } finally {
      redis.resume();
      resumedAt = nowMs();
    }
    log(`bus outage: SIGCONT redis-server; ${c.afterS} s more`);
    const paced = await run;
    const acked = paced.echoMs.flatMap((ms, i) => (ms >= 0 ? [i] : []));
    // "By the end": node 2 may still be catching up from the database.
    await worker.call("report", { expected: acked, waitMs: 30_000 }, 60_000);
    const logs = await worker.call("received", { sockets: everyone });
    const status = await worker.call("status", {});

    const windowOf = (i: number): OutageWindow => {
      const at = paced.sentAtMs[i] ?? 0;
      return at < stoppedAt ? "before" : at < resumedAt ? "during" : "after";
    };
    const sentIn: Record<OutageWindow, number> = { before: 0, during: 0, after: 0 };
    const echoIn: Record<OutageWindow, number[]> = { before: [], during: [], after: [] };
    paced.echoMs.forEach((ms, i) => {
      const w = windowOf(i);
      sentIn[w]++;
      if (ms >= 0) echoIn[w].push(ms);
    });
    const ackedSet = new Set(acked);
    const view = (sockets: number[]): NodeView => {
      const delivery: Record<OutageWindow, number[]> = { before: [], during: [], after: [] };
      let lost = 0;
      let duplicated = 0;
      let outOfOrder = 0;
      let unexpected = 0;
      for (const s of sockets) {
        const got: ReceivedLog = logs[s] ?? { indexes: [], seqs: [], atMs: [] };
        const seen = new Set<number>();
        let lastSeq = -1;
        got.indexes.forEach((i, k) => {
          if (seen.has(i)) {
            duplicated++;
            return;
          }
          seen.add(i);
          if (!ackedSet.has(i)) unexpected++;
          const seq = got.seqs[k] ?? -1;
          if (seq >= 0 && seq < lastSeq) outOfOrder++;
          lastSeq = Math.max(lastSeq, seq);
          delivery[windowOf(i)].push((got.atMs[k] ?? 0) - (paced.sentAtMs[i] ?? 0));
        });
        for (const i of acked) if (!seen.has(i)) lost++;
      }
      return {
        members: sockets.length,
        lost,
        duplicated,
        outOfOrder,
        unexpected,
        delivery: {
          before: window(delivery.before, sentIn.before * sockets.length),
          during: window(delivery.during, sentIn.during * sockets.length),
          after: window(delivery.after, sentIn.after * sockets.length),
        },
      };
    };
    const database = await ctx.db.access(async (sql) => {
      const check = await conversationIntegrity(sql, group.id, tag);
      let missing = 0;
      let extra = 0;
      for (const i of acked) {
        const n = check.copies.get(i) ?? 0;
        if (n === 0) missing++;
        if (n > 1) extra += n - 1;
      }
      return { missing, extra, dense: check.dense, rows: check.rows };
    });
    return {
      sent: count,
      acked: acked.length,
      echo: { before: window(echoIn.before, sentIn.before), during: window(echoIn.during, sentIn.during), after: window(echoIn.after, sentIn.after) },
      node1: view(everyone.filter((i) => nodeOf(i) === 0)),
      node2: view(everyone.filter((i) => nodeOf(i) === 1)),
      database,
      bus: await busStats(node1.url),
      outageMs: round(resumedAt - stoppedAt, 0),
      unexpectedCloses: status.unexpectedCloses,
      errorFrames: status.errorFrames,
      warmupOk,
    };
  } finally {
    await worker.call("closeAll", {});
  }
}

export interface BusOutagePhaseInput {
  redis: RedisProcess | undefined;
  redisError: string;
  /** Creates the phase's group (2 × membersPerNode members) through the API of the node at `url`. */
  createGroup: (url: string) => Promise<BenchGroup>;
  /** The run's server warnings: the nodes' go there only if the phase fails (Redis is stopped on purpose). */
  warnings: string[];
}

const windowFigures = (w: LatencyWindow): LatencyWindowFigures => ({ messages: w.messages, measured: w.measured, p50_ms: w.p50, p99_ms: w.p99, max_ms: w.max });

const viewFigures = (v: NodeView): NodeViewFigures => ({
  members: v.members,
  lost: v.lost,
  duplicated: v.duplicated,
  out_of_order: v.outOfOrder,
  unexpected: v.unexpected,
  delivery: { before: windowFigures(v.delivery.before), during: windowFigures(v.delivery.during), after: windowFigures(v.delivery.after) },
});

/**
 * Phase "bus outage" (PostgreSQL): two nodes on this run's own redis-server (never the system
 * Redis: it is stopped), a channel of this run's own. A failure is reported in place of the figures.
 */
export async function busOutagePhase(
  ctx: RunContext,
  worker: ClientWorker,
  input: BusOutagePhaseInput,
): Promise<{ figures: BusOutageFigures | Skipped; extra: ReportNotes["busOutageExtra"] }> {
  const redis = input.redis;
  if (!redis) return { figures: { skipped: `redis-server could not be started (${input.redisError})` }, extra: undefined };
  const c = ctx.config.busOutage;
  const channel = `omnilink-bench:${ctx.tag}:outage`;
  const nodes: ServerProcess[] = [];
  const stopNodes = async (into: string[]) => {
    for (const node of nodes.splice(0)) {
      await node.stop();
      into.push(...serverWarnings(node.logs));
    }
  };
  try {
    nodes.push(await startNode(ctx, "outage-node1", redis.url, channel));
    nodes.push(await startNode(ctx, "outage-node2", redis.url, channel));
    const [node1, node2] = nodes as [ServerProcess, ServerProcess];
    const group = await input.createGroup(node1.url);
    log(`bus outage: ${c.perS} msgs/s from node 1; ${c.beforeS} s, Redis stopped ${c.outageS} s, ${c.afterS} s; members ${c.membersPerNode} + ${c.membersPerNode}…`);
    const o = await measureBusOutage(ctx, worker, [node1, node2], redis, group, `${ctx.tag}o`);
    log(
      `bus outage: echo p99 before ${o.echo.before.p99} ms, during ${o.echo.during.p99} ms, after ${o.echo.after.p99} ms; node 2: ${o.node2.lost} lost, ${o.node2.duplicated} duplicated, ${o.node2.outOfOrder} out of order`,
    );
    const nodeWarnings: string[] = [];
    await stopNodes(nodeWarnings);
    return {
      figures: {
        rate_per_s: c.perS,
        before_s: c.beforeS,
        outage_s: c.outageS,
        after_s: c.afterS,
        sent: o.sent,
        acknowledged: o.acked,
        echo: { before: windowFigures(o.echo.before), during: windowFigures(o.echo.during), after: windowFigures(o.echo.after) },
        p99_during_over_before: o.echo.before.p99 > 0 ? round(o.echo.during.p99 / o.echo.before.p99, 2) : 0,
        node2: viewFigures(o.node2),
        node1: viewFigures(o.node1),
        database: { missing: o.database.missing, stored_twice: o.database.extra, seqs_dense: o.database.dense },
        bus_node1: o.bus ?? null,
      },
      extra: {
        redis: `this run's redis-server (pid ${redis.pid}, port ${redis.port}, channel ${channel}), SIGSTOP then SIGCONT; STREAM_POLL_MS at its default`,
        warnings: nodeWarnings,
        unexpectedCloses: o.unexpectedCloses,
        errorFrames: o.errorFrames,
        warmupOk: o.warmupOk,
        outageMs: o.outageMs,
      },
    };
  } catch (error) {
    redis.resume();
    log(`bus outage FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { figures: { skipped: `failed: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}` }, extra: undefined };
  } finally {
    await stopNodes(input.warnings);
  }
}
