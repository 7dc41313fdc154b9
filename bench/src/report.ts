import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TARGETS } from "./config.js";
import type { WaitSummary } from "./pg-waits.js";
import type { ProfileSummary } from "./profile.js";

/** bench/results/latest.json: exactly this object. */
export interface BenchResult {
  machine: { cpu_model: string; cores: number; memory_bytes: number; node: string; os: string };
  database: { kind: "postgres" | "pglite"; version: string };
  fanout: Array<{ members: number; delivered_per_s: number; baseline_delivered_per_s: number; ratio: number; p50_ms: number; p99_ms: number }>;
  send: Array<{ members: number; per_s: number; baseline_per_s: number; ratio: number }>;
  history: Array<{ case: string; p50_ms: number; p99_ms: number }>;
  /** messages.search over the history group's messages (no target: a figure to watch). */
  search: Array<{ case: string; p50_ms: number; p99_ms: number }>;
  sessions: { groups: number; p50_ms: number; p99_ms: number };
  memory: { connections: number; bytes_per_connection: number };
  integrity: { lost: number; duplicated: number };
  /** Sends spread over many small groups from several senders, against single-row INSERTs at the same concurrency. */
  many_groups: ManyGroupsFigures;
  /** Redis stopped under a steady send, two nodes (PostgreSQL only). */
  bus_outage: BusOutageFigures | Skipped;
  /** Fan-out of one group split over two nodes, against the same group on one node (PostgreSQL only). */
  two_nodes: TwoNodesFigures | Skipped;
  /**
   * Where a target is missed: the profiled rerun of that phase (CPU profile of the server, PostgreSQL
   * wait samples) and the reading derived from them, as in latest.md. Empty when every target is met.
   */
  what_bounds_it: Array<ProfiledPhase & { reading: string }>;
}

/** A phase that missed its target, rerun on a server started with --cpu-prof. */
export interface ProfiledPhase {
  phase: string;
  why: string;
  profile: ProfileSummary | undefined;
  waits: WaitSummary | undefined;
  note?: string;
  /** The server's PostgreSQL pool size, when known (read against the busy connections). */
  pool_max?: number;
}

export interface Skipped {
  skipped: string;
}

const isSkipped = (x: object): x is Skipped => "skipped" in x;

interface ManyGroupsFigures {
  groups: number;
  members_per_group: number;
  senders: number;
  in_flight: number;
  messages: number;
  per_s: number;
  baseline_per_s: number;
  ratio: number;
  /** Send → echo on the sender's socket. */
  p50_ms: number;
  p99_ms: number;
  acknowledged: number;
  failed: number;
  /** The server's PostgreSQL pool (postgres.js `max`: createDb's default, the server sets none); null on PGlite. */
  server_db_pool_max: number | null;
  integrity: {
    missing_in_database: number;
    stored_twice: number;
    duplicated_deliveries: number;
    unexpected_deliveries: number;
    groups_with_dense_seqs: number;
  };
}

export interface LatencyWindowFigures {
  /** Messages sent in the window (delivery figures: × members). */
  messages: number;
  /** How many of those got the figure (an echo, a delivery). */
  measured: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

interface OutageWindows {
  before: LatencyWindowFigures;
  during: LatencyWindowFigures;
  after: LatencyWindowFigures;
}

export interface NodeViewFigures {
  members: number;
  lost: number;
  duplicated: number;
  out_of_order: number;
  /** Deliveries of messages the sender never got an echo for. */
  unexpected: number;
  /** Send → delivery to the members of this node. */
  delivery: OutageWindows;
}

export interface BusOutageFigures {
  rate_per_s: number;
  before_s: number;
  outage_s: number;
  after_s: number;
  sent: number;
  acknowledged: number;
  /** Sender echo latency, by send time. */
  echo: OutageWindows;
  p99_during_over_before: number;
  node2: NodeViewFigures;
  node1: NodeViewFigures;
  database: { missing: number; stored_twice: number; seqs_dense: boolean };
  /** Node 1's bus counters (/metrics) at the end. */
  bus_node1: { published: number; dropped: number } | null;
}

export interface FanoutFigures {
  delivered_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

export interface TwoNodesFigures {
  members: number;
  messages: number;
  one_node: FanoutFigures;
  two_nodes: FanoutFigures & { members_per_node: [number, number] };
  ratio: number;
  integrity: { lost: number; duplicated: number };
}

/** What the markdown says besides the figures. */
export interface ReportNotes {
  startedAt: string;
  durationS: number;
  loadAverage: { start: number[]; end: number[] };
  sizes: string[];
  method: string[];
  fanoutExtra: Array<{ members: number; messages: number; messagesPerS: number; frameBytes: number; baselineP50: number; baselineP99: number; serverCpuPct: number; baselineCpuPct: number; workerCpuPct: number }>;
  sendExtra: Array<{ members: number; messages: number; errors: number; firstError: string | undefined; serverCpuPct: number }>;
  integrityExtra: string[];
  memoryExtra: { before: number; after: number };
  serverWarnings: string[];
  manyGroupsExtra: { serverCpuPct: number; errorFrames: number; firstErrorFrame: string | undefined; baseline: string; integrityLine: string; serverPool: string };
  busOutageExtra?: { redis: string; warnings: string[]; unexpectedCloses: number; errorFrames: number; warmupOk: boolean; outageMs: number };
  twoNodesExtra?: {
    redis: string;
    oneNodeCpuPct: number;
    twoNodesCpuPct: number;
    workerCpuPct: number;
    /** The fan-out phase's figure for the same group (one node, no bus configured). */
    fanoutPhase: FanoutFigures | undefined;
    integrityLine: string;
  };
  profiles: ProfiledPhase[];
}

const mark = (ok: boolean) => (ok ? "✅ met" : "❌ missed");
const num = (n: number) => n.toLocaleString("en", { maximumFractionDigits: 2 });

export function targetsMet(r: BenchResult) {
  const cursor = r.history.filter((h) => h.case.includes("cursor") || h.case.startsWith("newest"));
  return {
    fanout: r.fanout.map((f) => f.ratio >= TARGETS.fanoutRatio),
    send: r.send.map((s) => s.ratio >= TARGETS.sendRatio),
    historyCursor: cursor.every((h) => h.p50_ms <= TARGETS.historyCursorP50Ms),
    memory: r.memory.bytes_per_connection <= TARGETS.bytesPerConnection,
    integrity: r.integrity.lost === 0 && r.integrity.duplicated === 0,
    manyGroups: r.many_groups.ratio >= TARGETS.manyGroupsRatio,
    manyGroupsIntegrity: manyGroupsIntact(r.many_groups),
    busOutageLatency: isSkipped(r.bus_outage) ? undefined : outageLatencyMet(r.bus_outage),
    busOutageIntegrity: isSkipped(r.bus_outage) ? undefined : outageIntact(r.bus_outage),
    twoNodesIntegrity: isSkipped(r.two_nodes) ? undefined : r.two_nodes.integrity.lost === 0 && r.two_nodes.integrity.duplicated === 0,
  };
}

function manyGroupsIntact(m: ManyGroupsFigures): boolean {
  const i = m.integrity;
  return i.missing_in_database === 0 && i.stored_twice === 0 && i.duplicated_deliveries === 0 && i.groups_with_dense_seqs === m.groups;
}

/** p99 during ≤ factor × p99 before, and every message sent during the outage echoed. */
function outageLatencyMet(b: BusOutageFigures): boolean {
  const { before, during } = b.echo;
  return before.measured > 0 && during.measured === during.messages && during.p99_ms <= TARGETS.busOutageP99Factor * before.p99_ms;
}

function outageIntact(b: BusOutageFigures): boolean {
  const clean = (v: NodeViewFigures) => v.lost === 0 && v.duplicated === 0 && v.out_of_order === 0;
  return clean(b.node2) && clean(b.node1) && b.database.missing === 0 && b.database.stored_twice === 0 && b.database.seqs_dense;
}

const windowText = (w: LatencyWindowFigures) =>
  w.measured === 0 ? "—" : `${w.p50_ms} / ${w.p99_ms} ms${w.measured < w.messages ? ` (${w.messages - w.measured} of ${w.messages} never came)` : ""}`;

export function renderMarkdown(r: BenchResult, notes: ReportNotes): string {
  const met = targetsMet(r);
  const out: string[] = [];
  const m = r.machine;
  out.push(`# OmniLink benchmark`, "");
  out.push(
    `Run of ${notes.startedAt}, ${notes.durationS} s. Machine: ${m.cpu_model}, ${m.cores} cores, ${num(m.memory_bytes / 2 ** 30)} GiB, Node ${m.node}, ${m.os}. ` +
      `Database: **${r.database.kind}** ${r.database.version}. Load average at start ${notes.loadAverage.start.map((l) => l.toFixed(2)).join(" / ")}, at end ${notes.loadAverage.end.map((l) => l.toFixed(2)).join(" / ")}.`,
    "",
  );
  if (r.database.kind === "pglite") out.push(`> PGlite run: smaller sizes than on PostgreSQL (see *Sizes*). Quote PostgreSQL runs for the README.`, "");

  out.push(`## Figures against the targets`, "");
  out.push(`| figure | ours | baseline (same run) | ratio | latency p50 / p99 | target | |`, `|---|---|---|---|---|---|---|`);
  r.fanout.forEach((f, i) => {
    const x = notes.fanoutExtra[i];
    out.push(
      `| fan-out, ${f.members} members online | ${num(f.delivered_per_s)} deliveries/s | ${num(f.baseline_delivered_per_s)} deliveries/s (bare \`ws\` relay) | ${f.ratio} | ${f.p50_ms} / ${f.p99_ms} ms (baseline ${x?.baselineP50 ?? "?"} / ${x?.baselineP99 ?? "?"} ms) | ≥ ${TARGETS.fanoutRatio}× | ${mark(met.fanout[i] ?? false)} |`,
    );
  });
  r.send.forEach((s, i) => {
    out.push(
      `| persisted sends, group of ${s.members} | ${num(s.per_s)} messages/s | ${num(s.baseline_per_s)} single-row INSERTs/s | ${s.ratio} | | ≥ ${TARGETS.sendRatio}× | ${mark(met.send[i] ?? false)} |`,
    );
  });
  for (const h of r.history) {
    const cursor = h.case.includes("cursor") || h.case.startsWith("newest");
    out.push(`| history: ${h.case} | | | | ${h.p50_ms} / ${h.p99_ms} ms | ${cursor ? `p50 ≤ ${TARGETS.historyCursorP50Ms} ms` : "(none)"} | ${cursor ? mark(h.p50_ms <= TARGETS.historyCursorP50Ms) : ""} |`);
  }
  for (const q of r.search ?? []) out.push(`| ${q.case} | | | | ${q.p50_ms} / ${q.p99_ms} ms | (none) | |`);
  out.push(`| sessions.list, user in ${r.sessions.groups} groups (unread counts) | | | | ${r.sessions.p50_ms} / ${r.sessions.p99_ms} ms | (none) | |`);
  out.push(
    `| memory per idle /wss connection (${num(r.memory.connections)} open) | ${num(r.memory.bytes_per_connection)} bytes (${num(r.memory.bytes_per_connection / 1024)} KiB) | | | | ≤ 30 KiB | ${mark(met.memory)} |`,
  );
  out.push(`| integrity over fan-out and send | ${r.integrity.lost} lost, ${r.integrity.duplicated} duplicated | | | | 0 and 0 | ${mark(met.integrity)} |`);
  const mg = r.many_groups;
  out.push(
    `| many groups: ${mg.groups} groups × ${mg.members_per_group}, ${mg.senders} senders, ${mg.in_flight} sends in flight | ${num(mg.per_s)} messages/s | ${num(mg.baseline_per_s)} single-row INSERTs/s (${mg.in_flight} in flight, spread over the ${mg.groups} conversations) | ${mg.ratio} | echo ${mg.p50_ms} / ${mg.p99_ms} ms | ≥ ${TARGETS.manyGroupsRatio}× | ${mark(met.manyGroups)} |`,
    `| many groups: integrity | ${mg.integrity.missing_in_database} acknowledged missing, ${mg.integrity.stored_twice} stored twice, ${mg.integrity.duplicated_deliveries} duplicated deliveries; seqs dense in ${mg.integrity.groups_with_dense_seqs}/${mg.groups} groups | | | | 0, 0, 0; all dense | ${mark(met.manyGroupsIntegrity)} |`,
  );
  const bo = r.bus_outage;
  if (isSkipped(bo)) {
    out.push(`| bus outage (Redis stopped under a steady send, two nodes) | skipped: ${bo.skipped} | | | | | |`);
  } else {
    out.push(
      `| bus outage: sender echo latency, Redis stopped ${bo.outage_s} s (SIGSTOP), ${bo.rate_per_s} msgs/s, two nodes | p50 / p99 before ${windowText(bo.echo.before)}; **during ${windowText(bo.echo.during)}**; after ${windowText(bo.echo.after)} | p99 before the outage (same run) | ${bo.p99_during_over_before} (p99 during / before) | | p99 during ≤ ${TARGETS.busOutageP99Factor}× p99 before | ${mark(met.busOutageLatency ?? false)} |`,
      `| bus outage: what the ${bo.node2.members} members on node 2 got (${bo.acknowledged} acknowledged) | ${bo.node2.lost} lost, ${bo.node2.duplicated} duplicated, ${bo.node2.out_of_order} out of order (node 1 members: ${bo.node1.lost} / ${bo.node1.duplicated} / ${bo.node1.out_of_order}; database: ${bo.database.missing} missing, ${bo.database.stored_twice} twice, seqs ${bo.database.seqs_dense ? "dense" : "NOT dense"}) | | | node 2 delivery during ${windowText(bo.node2.delivery.during)} (max ${bo.node2.delivery.during.max_ms} ms) | 0, 0, 0 | ${mark(met.busOutageIntegrity ?? false)} |`,
    );
  }
  const tn = r.two_nodes;
  if (isSkipped(tn)) {
    out.push(`| two nodes: fan-out with the members split over two nodes | skipped: ${tn.skipped} | | | | | |`);
  } else {
    out.push(
      `| two nodes: fan-out, ${tn.members} members, ${tn.two_nodes.members_per_node[0]} on node 1 (sender) + ${tn.two_nodes.members_per_node[1]} on node 2 | ${num(tn.two_nodes.delivered_per_s)} deliveries/s | ${num(tn.one_node.delivered_per_s)} deliveries/s (same group, all on node 1, same run) | ${tn.ratio} | ${tn.two_nodes.p50_ms} / ${tn.two_nodes.p99_ms} ms (one node ${tn.one_node.p50_ms} / ${tn.one_node.p99_ms} ms) | (none set: reported) | |`,
      `| two nodes: integrity (both runs) | ${tn.integrity.lost} lost, ${tn.integrity.duplicated} duplicated | | | | 0 and 0 | ${mark(met.twoNodesIntegrity ?? false)} |`,
    );
  }
  out.push("");

  out.push(`## Details`, "");
  for (const x of notes.fanoutExtra) {
    out.push(
      `- fan-out ${x.members}: ${x.messages} messages (${num(x.messagesPerS)} messages/s reached every member), delivered frame ${x.frameBytes} bytes (the baseline relays frames of that size); CPU over the measured part: our server ${x.serverCpuPct} % of a core, bare relay ${x.baselineCpuPct} %, client process ${x.workerCpuPct} % (ours).`,
    );
  }
  for (const x of notes.sendExtra) {
    out.push(`- send ${x.members}: ${x.messages} messages, ${x.errors} failed${x.firstError ? ` (first: ${x.firstError})` : ""}; server CPU ${x.serverCpuPct} % of a core.`);
  }
  out.push(`- memory: RSS ${num(notes.memoryExtra.before / 2 ** 20)} MiB before, ${num(notes.memoryExtra.after / 2 ** 20)} MiB with the connections open.`);
  for (const line of notes.integrityExtra) out.push(`- ${line}`);
  const mx = notes.manyGroupsExtra;
  out.push(
    `- many groups: ${mg.acknowledged} of ${mg.messages} sends acknowledged, ${mg.failed} without an echo within 10 s, ${mx.errorFrames} error frames${mx.firstErrorFrame ? ` (first: \`${mx.firstErrorFrame.slice(0, 160)}\`)` : ""}; server CPU ${mx.serverCpuPct} % of a core; server database pool: ${mx.serverPool}. Baseline: ${mx.baseline}. ${mx.integrityLine}`,
  );
  if (!isSkipped(bo) && notes.busOutageExtra) {
    const x = notes.busOutageExtra;
    const d = (v: NodeViewFigures) => `before ${windowText(v.delivery.before)}, during ${windowText(v.delivery.during)} (max ${v.delivery.during.max_ms} ms), after ${windowText(v.delivery.after)}`;
    out.push(
      `- bus outage: ${x.redis}; Redis stopped for ${num(x.outageMs)} ms. ${bo.sent} messages sent (${bo.echo.before.messages} before, ${bo.echo.during.messages} during, ${bo.echo.after.messages} after), ${bo.acknowledged} echoed; max echo during ${bo.echo.during.max_ms} ms.${x.warmupOk ? "" : " Warm-up (Redis up) incomplete: see the log."} Send → delivery, node-2 members: ${d(bo.node2)}; node-1 members: ${d(bo.node1)}. Deliveries of unacknowledged messages: node 2 ${bo.node2.unexpected}, node 1 ${bo.node1.unexpected}. Node 1 bus: ${bo.bus_node1 ? `${bo.bus_node1.published} publications sent, ${bo.bus_node1.dropped} dropped` : "no counters"}. Sockets closed by the nodes: ${x.unexpectedCloses}; error frames: ${x.errorFrames}.`,
      `- bus outage: the two nodes logged ${x.warnings.length} warnings/errors${x.warnings.length > 0 ? ` (distinct: ${[...new Set(x.warnings.map((w) => w.slice(0, 120)))].slice(0, 4).map((w) => `\`${w}\``).join("; ")})` : ""} (not counted in the server warnings below: Redis was stopped on purpose).`,
    );
  }
  if (!isSkipped(tn) && notes.twoNodesExtra) {
    const x = notes.twoNodesExtra;
    out.push(
      `- two nodes: ${x.redis}; ${tn.messages} messages each run; server CPU over the measured part: ${x.oneNodeCpuPct} % of a core (one node), ${x.twoNodesCpuPct} % (both nodes together); client process ${x.workerCpuPct} % (two nodes).${x.fanoutPhase ? ` The fan-out phase's figure for this group (one node, no bus configured): ${num(x.fanoutPhase.delivered_per_s)} deliveries/s, p50 / p99 ${x.fanoutPhase.p50_ms} / ${x.fanoutPhase.p99_ms} ms.` : ""} ${x.integrityLine}`,
    );
  }
  if (notes.serverWarnings.length > 0) {
    out.push(`- server warnings/errors logged (${notes.serverWarnings.length}, first few): ${notes.serverWarnings.slice(0, 5).map((w) => `\`${w.slice(0, 160)}\``).join("; ")}`);
  } else {
    out.push(`- the server logged no warning or error.`);
  }
  out.push("");

  if (notes.profiles.length > 0) {
    out.push(`## Where a target is missed: what bounds it (CPU profile of the server during that phase)`, "");
    for (const p of notes.profiles) {
      out.push(`### ${p.phase}`, "", p.why, "");
      if (p.note) out.push(p.note, "");
      if (p.profile) {
        const pr = p.profile;
        out.push(
          `Profile \`${pr.file}\`, ${num(pr.windowMs)} ms of samples in the measured window: JS thread idle ${pr.idlePct} %, garbage collector ${pr.gcPct} %.`,
          "",
          `| self time by module | ms | % |`,
          `|---|---|---|`,
          ...pr.topModules.map((x) => `| ${x.module} | ${num(x.selfMs)} | ${x.pct} |`),
          "",
          `| top self-time functions | where | ms | % |`,
          `|---|---|---|---|`,
          ...pr.topFunctions.map((x) => `| ${x.name} | ${x.where} | ${num(x.selfMs)} | ${x.pct} |`),
          "",
        );
      }
      const r = boundReading(p);
      if (r) out.push(`**Reading:** ${r}`, "");
      if (p.waits) {
        out.push(
          `PostgreSQL side (pg_stat_activity sampled every 20 ms, ${p.waits.samples} samples, ${p.waits.busyPerSample} busy server connections on average${p.pool_max ? ` of a pool of ${p.pool_max}` : ""}): ` +
            p.waits.top.map((w) => `${w.state} ${w.pct} %`).join("; ") +
            ".",
          "",
        );
      }
    }
  }

  out.push(`## Sizes`, "", ...notes.sizes.map((s) => `- ${s}`), "");
  out.push(`## Method`, "", ...notes.method.map((s) => `- ${s}`), "");
  return out.join("\n");
}

const WAIT_MEANING: Array<[RegExp, string]> = [
  [/Lock:(transactionid|tuple)/, "waiting for a row lock another transaction holds (concurrent updates of the same row)"],
  [/Lock:advisory/, "waiting for an advisory lock"],
  [/Client:ClientRead/, "waiting for the server's next statement (a round trip)"],
  [/IO:WAL(Sync|Write)|LWLock:WAL/, "flushing the WAL at commit"],
  [/on CPU/, "executing"],
];

/** A plain-words reading of the measurements (derived from them by fixed rules, not written by hand). */
export function boundReading(p: Pick<ProfiledPhase, "profile" | "waits" | "pool_max">): string {
  const { profile, waits, pool_max: poolMax } = p;
  const parts: string[] = [];
  if (profile) {
    const mods = profile.topModules
      .slice(0, 3)
      .map((m) => `${m.module} ${m.pct} %`)
      .join(", ");
    parts.push(`the server's JS thread was busy ${round1(100 - profile.idlePct)} % of the window (largest self time: ${mods}).`);
  }
  const top = waits?.top[0];
  if (waits && top) {
    const meaning = WAIT_MEANING.find(([re]) => re.test(top.state))?.[1];
    parts.push(
      `Its PostgreSQL connections (${waits.busyPerSample} busy on average${poolMax ? ` of a pool of ${poolMax}` : ""}) were mostly \`${top.state}\` (${top.pct} % of busy samples)${meaning ? `: ${meaning}` : ""}.`,
    );
  }
  // A pool (nearly) always fully taken: further statements queue in the server for a connection.
  const poolBound = !!waits && !!poolMax && waits.busyPerSample >= 0.8 * poolMax;
  const lockBound = !!top && /^active \/ Lock:/.test(top.state) && top.pct >= 50;
  if (lockBound) parts.push("Bound by: lock waits in the database, concurrent transactions queueing one behind the other.");
  else if (poolBound && (!profile || profile.idlePct >= 50))
    parts.push(`Bound by: the server's ${poolMax} database connections, (nearly) all busy all the time: statements queue in the server for a connection while its CPU is mostly idle.`);
  else if (profile && profile.idlePct >= 50) parts.push("Bound by: waiting (database round trips, commits), not by the server's CPU.");
  else if (profile) parts.push("Bound by: the server's own CPU work (see the functions above).");
  return parts.join(" ");
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export function writeResults(dir: string, result: BenchResult, markdown: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, "latest.md"), `${markdown}\n`);
}
