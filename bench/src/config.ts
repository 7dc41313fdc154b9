import type { DatabaseKind } from "./db.js";

export interface BenchConfig {
  fanout: {
    sizes: Array<{ members: number; messages: number }>;
    /** Messages sent but not yet delivered to every member, at most. */
    window: number;
    warmup: number;
    contentBytes: number;
  };
  send: { sizes: number[]; messages: number; concurrency: number; observers: number; warmup: number; contentBytes: number };
  history: { messages: number; depth: number; requests: number; pageSize: number; warmup: number };
  sessions: { groups: number; requests: number; warmup: number };
  memory: { connections: number };
  /** Phase "many groups": sends spread over many small groups, from several senders. */
  manyGroups: {
    groups: number;
    membersPerGroup: number;
    senders: number;
    inFlight: number;
    messages: number;
    warmup: number;
    contentBytes: number;
    /** Messages of the profiled rerun (on a --cpu-prof server) when the ratio misses its target. */
    profileMessages: number;
  };
  /** Phase "bus outage" (PostgreSQL only): Redis stopped (SIGSTOP) while a sender sends at a steady rate. */
  busOutage: { perS: number; beforeS: number; outageS: number; afterS: number; membersPerNode: number; contentBytes: number };
  /** Phase "two nodes" (PostgreSQL only): fan-out of one group with its members split over two nodes. */
  twoNodes: { members: number; messages: number };
  /** WebSocket handshakes in flight while opening many connections. */
  connectConcurrency: number;
}

/**
 * Sizes of a run. PostgreSQL gets the full sizes the targets are set for; PGlite (one embedded, single-connection
 * database in the server process) smaller ones where the database does the work. BENCH_QUICK=1
 * shrinks everything for a smoke run of the harness itself (its figures mean nothing).
 */
export function benchConfig(kind: DatabaseKind, quick: boolean): BenchConfig {
  const pg = kind === "postgres";
  const config: BenchConfig = {
    fanout: {
      sizes: [
        { members: 100, messages: 400 },
        { members: 1000, messages: 100 },
      ],
      // Messages in flight (sent, not yet at every member), for ours and the baseline alike.
      window: 16,
      warmup: 5,
      contentBytes: 100,
    },
    send: { sizes: [10, 1000], messages: pg ? 2000 : 600, concurrency: 16, observers: 10, warmup: 30, contentBytes: 100 },
    history: { messages: pg ? 1_000_000 : 100_000, depth: pg ? 500_000 : 50_000, requests: 200, pageSize: 50, warmup: 10 },
    sessions: { groups: 500, requests: 200, warmup: 10 },
    memory: { connections: 5000 },
    manyGroups: { groups: 200, membersPerGroup: 3, senders: 20, inFlight: 64, messages: pg ? 4000 : 1200, warmup: 64, contentBytes: 100, profileMessages: pg ? 1500 : 600 },
    busOutage: { perS: 50, beforeS: 10, outageS: 20, afterS: 10, membersPerNode: 5, contentBytes: 100 },
    twoNodes: { members: 1000, messages: 100 },
    connectConcurrency: 50,
  };
  if (!quick) return config;
  return {
    ...config,
    fanout: { ...config.fanout, sizes: [{ members: 100, messages: 40 }, { members: 1000, messages: 10 }] },
    send: { ...config.send, messages: 200 },
    history: { ...config.history, messages: 20_000, depth: 10_000, requests: 40 },
    sessions: { ...config.sessions, groups: 50, requests: 40 },
    memory: { connections: 1000 },
    manyGroups: { ...config.manyGroups, messages: 400, profileMessages: 400 },
    busOutage: { ...config.busOutage, beforeS: 3, outageS: 5, afterS: 3 },
    twoNodes: { ...config.twoNodes, messages: 20 },
  };
}

/** The performance targets each figure is judged against (README "Benchmark"). */
export const TARGETS = {
  fanoutRatio: 0.5,
  sendRatio: 1,
  historyCursorP50Ms: 5,
  bytesPerConnection: 30 * 1024,
  /** many groups: acknowledged sends/s over single-row INSERTs/s at the same concurrency. */
  manyGroupsRatio: 1,
  /** bus outage: sender echo p99 while Redis is stopped, at most this many times the p99 before. */
  busOutageP99Factor: 2,
} as const;
