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
  sessions: { groups: number; p50_ms: number; p99_ms: number };
  memory: { connections: number; bytes_per_connection: number };
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
  profiles: Array<{ phase: string; why: string; profile: ProfileSummary | undefined; waits: WaitSummary | undefined; note?: string }>;
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
  };
}

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
  out.push(`| sessions.list, user in ${r.sessions.groups} groups (unread counts) | | | | ${r.sessions.p50_ms} / ${r.sessions.p99_ms} ms | (none) | |`);
  out.push(
    `| memory per idle /wss connection (${num(r.memory.connections)} open) | ${num(r.memory.bytes_per_connection)} bytes (${num(r.memory.bytes_per_connection / 1024)} KiB) | | | | ≤ 30 KiB | ${mark(met.memory)} |`,
  );
  out.push(`| integrity over fan-out and send | ${r.integrity.lost} lost, ${r.integrity.duplicated} duplicated | | | | 0 and 0 | ${mark(met.integrity)} |`, "");

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
      const r = reading(p.profile, p.waits);
      if (r) out.push(`**Reading:** ${r}`, "");
      if (p.waits) {
        out.push(
          `PostgreSQL side (pg_stat_activity sampled every 20 ms, ${p.waits.samples} samples, ${p.waits.busyPerSample} busy server connections on average): ` +
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
function reading(profile: ProfileSummary | undefined, waits: WaitSummary | undefined): string {
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
      `Its PostgreSQL connections (${waits.busyPerSample} busy on average) were mostly \`${top.state}\` (${top.pct} % of busy samples)${meaning ? `: ${meaning}` : ""}.`,
    );
  }
  const lockBound = !!top && /^active \/ Lock:/.test(top.state) && top.pct >= 50;
  if (lockBound) parts.push("Bound by: lock waits in the database, concurrent transactions queueing one behind the other.");
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
