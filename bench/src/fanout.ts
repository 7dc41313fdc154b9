import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { BenchGroup, RunContext } from "./context.js";
import { legacySocketUrl } from "./context.js";
import { benchSrc, cpuMs, repoRoot, stopChild, track } from "./processes.js";
import { log, percentile, round } from "./stats.js";
import type { ClientWorker } from "./worker-client.js";
import type { FanoutArgs, FanoutResult } from "./worker-protocol.js";

export interface FanoutSide {
  result: FanoutResult;
  deliveredPerS: number;
  p50: number;
  p99: number;
  /** Server (or baseline server) CPU over the measured part, as a share of one core. */
  serverCpuPct: number;
  workerCpuPct: number;
}

function summarise(result: FanoutResult, serverCpu: number): FanoutSide {
  const wallS = result.wallMs / 1000;
  const span = Math.max(1, result.endedAtMs - result.startedAtMs);
  return {
    result,
    deliveredPerS: wallS > 0 ? round(result.deliveries / wallS, 0) : 0,
    p50: round(percentile(result.latenciesMs, 50)),
    p99: round(percentile(result.latenciesMs, 99)),
    serverCpuPct: round((100 * serverCpu) / span, 0),
    workerCpuPct: round((100 * result.workerCpuMs) / span, 0),
  };
}

/** Opens one socket per member, warms up, measures, closes. Same steps for both servers. */
async function measure(
  ctx: RunContext,
  worker: ClientWorker,
  urls: string[],
  serverPids: number[],
  base: Omit<FanoutArgs, "tag" | "count" | "window" | "warmup">,
  tag: string,
  count: number,
): Promise<FanoutSide> {
  const opened = await worker.call("open", { urls, concurrency: ctx.config.connectConcurrency }, 300_000);
  if (opened.opened !== urls.length) throw new Error(`fan-out: opened ${opened.opened}/${urls.length} sockets (${opened.firstError})`);
  try {
    const { fanout } = ctx.config;
    const warm = await worker.call("fanout", { ...base, tag: `${tag}w`, count: fanout.warmup, window: 1, warmup: 0, timeoutMs: 30_000 }, 60_000);
    if (warm.completed !== fanout.warmup) throw new Error(`fan-out warm-up: ${warm.completed}/${fanout.warmup} messages reached every member`);
    const frameBytes = base.mode === "omnilink" ? warm.frameBytes : base.frameBytes;
    const cpuOf = () => serverPids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const cpu0 = cpuOf();
    const result = await worker.call("fanout", { ...base, frameBytes, tag, count, window: fanout.window, warmup: 0 }, base.timeoutMs + 30_000);
    const cpu = cpuOf() - cpu0;
    const status = await worker.call("status", {});
    if (status.unexpectedCloses > 0) log(`fan-out: ${status.unexpectedCloses} sockets were closed by the server during the run`);
    return summarise(result, cpu);
  } finally {
    await worker.call("closeAll", {}, 60_000);
  }
}

/** Our side: the group's members as legacy /wss clients; one of them sends. */
export function measureOurFanout(ctx: RunContext, worker: ClientWorker, server: { url: string; pid: number }, group: BenchGroup, count: number, tag: string) {
  return measureOurFanoutOn(ctx, worker, [server], () => 0, group, count, tag);
}

/**
 * The same over several server nodes: member i connects to `servers[nodeOf(i)]`; member 0 sends.
 * Server CPU is the sum over the nodes.
 */
export function measureOurFanoutOn(
  ctx: RunContext,
  worker: ClientWorker,
  servers: Array<{ url: string; pid: number }>,
  nodeOf: (member: number) => number,
  group: BenchGroup,
  count: number,
  tag: string,
) {
  return measure(
    ctx,
    worker,
    group.members.map((m, i) => legacySocketUrl((servers[nodeOf(i)] ?? servers[0])!.url, m)),
    servers.map((s) => s.pid),
    { sender: 0, mode: "omnilink", groupId: group.id, contentBytes: ctx.config.fanout.contentBytes, frameBytes: 0, timeoutMs: 120_000 },
    tag,
    count,
  );
}

/** The baseline: as many clients of a bare `ws` relay, frames of the size our server delivered. */
export async function measureBaselineFanout(ctx: RunContext, worker: ClientWorker, members: number, frameBytes: number, count: number, tag: string) {
  const relay = await startBaselineServer();
  try {
    return await measure(
      ctx,
      worker,
      Array.from({ length: members }, () => `ws://127.0.0.1:${relay.port}/`),
      [relay.pid],
      { sender: 0, mode: "bare", groupId: "G-baseline", contentBytes: 0, frameBytes, timeoutMs: 120_000 },
      tag,
      count,
    );
  } finally {
    await relay.stop();
  }
}

async function startBaselineServer(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const child = track(
    spawn(process.execPath, ["--import", "tsx", join(benchSrc, "baseline-server.ts")], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] }),
  );
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("baseline server did not start")), 30_000);
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`baseline server exited (${code})`)));
  });
  return { port, pid: child.pid ?? 0, stop: () => stopChild(child, 5_000) };
}
