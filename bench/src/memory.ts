import type { BenchUser, RunContext } from "./context.js";
import { legacySocketUrl } from "./context.js";
import { rssBytes } from "./processes.js";
import { log, round, sleep } from "./stats.js";
import type { ClientWorker } from "./worker-client.js";

/**
 * RSS once it stops moving: sampled every 500 ms until the last 6 samples (3 s) are within 0.5 %
 * of each other, at most `maxMs`; returns their median.
 */
async function settledRss(pid: number, maxMs = 20_000): Promise<number> {
  const samples: number[] = [];
  const deadline = Date.now() + maxMs;
  for (;;) {
    samples.push(rssBytes(pid));
    const last = samples.slice(-6);
    if (last.length === 6) {
      const lo = Math.min(...last);
      const hi = Math.max(...last);
      if (hi - lo <= lo * 0.005 || Date.now() > deadline) {
        const sorted = [...last].sort((a, b) => a - b);
        return ((sorted[2] ?? 0) + (sorted[3] ?? 0)) / 2;
      }
    }
    await sleep(500);
  }
}

/** (RSS with N idle legacy connections − RSS before) / N, on a server process started for it. */
export async function measureMemory(ctx: RunContext, worker: ClientWorker, server: { url: string; pid: number }, users: BenchUser[]) {
  // Load the code paths first (handshake, subscription, presence), so they are not counted per connection.
  const warm = users.slice(0, 20).map((u) => legacySocketUrl(server.url, u));
  await worker.call("open", { urls: warm, concurrency: 10 });
  await worker.call("closeAll", {});
  const before = await settledRss(server.pid);
  const urls = users.map((u) => legacySocketUrl(server.url, u));
  const opened = await worker.call("open", { urls, concurrency: ctx.config.connectConcurrency }, 600_000);
  if (opened.opened !== urls.length) throw new Error(`memory: opened ${opened.opened}/${urls.length} (${opened.firstError})`);
  try {
    const after = await settledRss(server.pid);
    const status = await worker.call("status", {});
    if (status.open !== urls.length) log(`memory: only ${status.open}/${urls.length} connections still open`);
    return { connections: status.open, before, after, bytesPerConnection: round((after - before) / status.open, 0) };
  } finally {
    await worker.call("closeAll", {}, 120_000);
  }
}
