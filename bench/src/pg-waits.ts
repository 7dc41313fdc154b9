import postgres from "postgres";

export interface WaitSummary {
  samples: number;
  /** Average number of busy (not idle) server connections per sample. */
  busyPerSample: number;
  /** Share of sampled server connections (not idle) in each state / wait event. */
  top: Array<{ state: string; pct: number }>;
}

/**
 * Samples pg_stat_activity of one database every `everyMs` while running: what the server's
 * connections are doing (running, waiting on a lock, idle in a transaction waiting for the next
 * statement from the server …). Database-side evidence to read next to the server's CPU profile.
 */
export function sampleWaits(url: string, database: string, everyMs = 20) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const counts = new Map<string, number>();
  let total = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const rows = await sql<Array<{ state: string | null; wait_event_type: string | null; wait_event: string | null }>>`
        select state, wait_event_type, wait_event from pg_stat_activity
        where datname = ${database} and pid <> pg_backend_pid() and backend_type = 'client backend' and state <> 'idle'`;
      samples++;
      for (const r of rows) {
        const key = `${r.state ?? "?"}${r.wait_event_type ? ` / ${r.wait_event_type}:${r.wait_event}` : " / on CPU"}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        total++;
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop(): Promise<WaitSummary> {
      running = false;
      await loop.catch(() => {});
      await sql.end({ timeout: 5 });
      return {
        samples,
        busyPerSample: Math.round((10 * total) / Math.max(1, samples)) / 10,
        top: [...counts.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([state, n]) => ({ state, pct: Math.round((1000 * n) / Math.max(1, total)) / 10 })),
      };
    },
  };
}
