import type { BenchGroup, RunContext } from "./context.js";
import { measureOurFanoutOn, type FanoutSide } from "./fanout.js";
import { startNode } from "./nodes.js";
import { serverWarnings, type ServerProcess } from "./processes.js";
import type { RedisProcess } from "./redis.js";
import type { FanoutFigures, ReportNotes, Skipped, TwoNodesFigures } from "./report.js";
import { log, round } from "./stats.js";
import type { ClientWorker } from "./worker-client.js";

interface TwoNodesOutcome {
  oneNode: FanoutSide;
  twoNodes: FanoutSide;
}

/**
 * Fan-out of one group, same workload as the fan-out phase (one member sends, `messages` messages,
 * the same window): first with every member on node 1 alone (with the Redis bus configured), then,
 * once node 2 has started, with the first half of the members on node 1 (the sender among them)
 * and the second half on node 2.
 */
async function measureTwoNodes(
  ctx: RunContext,
  worker: ClientWorker,
  startNodeN: (n: 1 | 2) => Promise<ServerProcess>,
  group: BenchGroup,
  tag: string,
): Promise<TwoNodesOutcome> {
  const { messages } = ctx.config.twoNodes;
  const node1 = await startNodeN(1);
  log(`two nodes: ${group.members.length} members on node 1 alone (${messages} messages)…`);
  const oneNode = await measureOurFanoutOn(ctx, worker, [node1], () => 0, group, messages, `${tag}1`);
  const node2 = await startNodeN(2);
  const half = Math.ceil(group.members.length / 2);
  log(`two nodes: ${half} members on node 1, ${group.members.length - half} on node 2…`);
  const twoNodes = await measureOurFanoutOn(ctx, worker, [node1, node2], (i) => (i < half ? 0 : 1), group, messages, `${tag}2`);
  return { oneNode, twoNodes };
}

export interface TwoNodesPhaseInput {
  /** This run's redis-server, used when REDIS_URL is unset. */
  redis: RedisProcess | undefined;
  redisError: string;
  /** The fan-out group of config.twoNodes.members. */
  group: BenchGroup;
  /** The fan-out phase's figure for the same group (one node, no bus), for reference. */
  fanoutPhase: FanoutFigures | undefined;
  /** The run's server warnings: the nodes' go there. */
  warnings: string[];
}

/**
 * Phase "two nodes" (PostgreSQL): nodes on the Redis at REDIS_URL when set, else this run's
 * redis-server, on a channel of this run's own. A failure is reported in place of the figures.
 */
export async function twoNodesPhase(
  ctx: RunContext,
  worker: ClientWorker,
  input: TwoNodesPhaseInput,
): Promise<{ figures: TwoNodesFigures | Skipped; extra: ReportNotes["twoNodesExtra"] }> {
  const systemRedis = process.env.REDIS_URL?.trim();
  const redisUrl = systemRedis || input.redis?.url;
  if (!redisUrl) return { figures: { skipped: `no Redis: REDIS_URL is unset and redis-server could not be started (${input.redisError})` }, extra: undefined };
  const channel = `omnilink-bench:${ctx.tag}:two`;
  const members = input.group.members.length;
  const nodes: ServerProcess[] = [];
  try {
    const { oneNode: one, twoNodes: two } = await measureTwoNodes(
      ctx,
      worker,
      async (n) => {
        const node = await startNode(ctx, `two-node${n}`, redisUrl, channel);
        nodes.push(node);
        return node;
      },
      input.group,
      `${ctx.tag}n`,
    );
    const half = Math.ceil(members / 2);
    const run = (name: string, side: FanoutSide) =>
      `${name} ${side.result.completed}/${side.result.sent} messages reached every member, ${side.result.lost} lost, ${side.result.duplicated} duplicated${side.result.timedOut ? " (TIMED OUT)" : ""}`;
    log(`two nodes: ${two.deliveredPerS}/s p99 ${two.p99} ms; one node ${one.deliveredPerS}/s p99 ${one.p99} ms`);
    return {
      figures: {
        members,
        messages: ctx.config.twoNodes.messages,
        one_node: { delivered_per_s: one.deliveredPerS, p50_ms: one.p50, p99_ms: one.p99 },
        two_nodes: { delivered_per_s: two.deliveredPerS, p50_ms: two.p50, p99_ms: two.p99, members_per_node: [half, members - half] },
        ratio: one.deliveredPerS > 0 ? round(two.deliveredPerS / one.deliveredPerS, 3) : 0,
        integrity: { lost: one.result.lost + two.result.lost, duplicated: one.result.duplicated + two.result.duplicated },
      },
      extra: {
        redis: systemRedis ? `the Redis at REDIS_URL (channel ${channel})` : `this run's redis-server (pid ${input.redis?.pid}, channel ${channel})`,
        oneNodeCpuPct: one.serverCpuPct,
        twoNodesCpuPct: two.serverCpuPct,
        workerCpuPct: two.workerCpuPct,
        fanoutPhase: input.fanoutPhase,
        integrityLine: `Every (member, message) pair: ${run("one node", one)}; ${run("two nodes", two)}.`,
      },
    };
  } catch (error) {
    log(`two nodes FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { figures: { skipped: `failed: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}` }, extra: undefined };
  } finally {
    for (const node of nodes) {
      await node.stop();
      input.warnings.push(...serverWarnings(node.logs));
    }
  }
}
