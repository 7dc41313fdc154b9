import { join } from "node:path";
import type { RunContext } from "./context.js";
import { startServer, type ServerProcess } from "./processes.js";

/**
 * One node of a multi-node deployment: the run's server environment (same database, same
 * JWT_SECRET) with its own data folder, and the Redis bus at `redisUrl` on `channel` (nodes of one
 * deployment share the channel; a run-specific name keeps other users of that Redis out).
 */
export function startNode(ctx: RunContext, name: string, redisUrl: string, channel: string): Promise<ServerProcess> {
  return startServer({ env: { ...ctx.serverEnv, DATA_DIR: join(ctx.db.workDir, name), REDIS_URL: redisUrl, REDIS_CHANNEL: channel } });
}

/** The node's bus counters from /metrics (undefined when it does not expose them). */
export async function busStats(serverUrl: string): Promise<{ published: number; dropped: number } | undefined> {
  try {
    const text = await (await fetch(`${serverUrl}/metrics`)).text();
    const value = (name: string) => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text);
      return match?.[1] !== undefined ? Number(match[1]) : undefined;
    };
    const published = value("omnilink_bus_publications_total");
    const dropped = value("omnilink_bus_dropped_total");
    return published === undefined || dropped === undefined ? undefined : { published, dropped };
  } catch {
    return undefined;
  }
}
