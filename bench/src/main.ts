/**
 * `npm run bench`: the performance benchmark (figures against targets). Real server processes (apps/server/src/main.ts) and
 * real WebSocket clients on 127.0.0.1; PostgreSQL when DATABASE_URL is set (a fresh database next
 * to it, dropped afterwards), PGlite otherwise. Every figure's baseline is measured in the same
 * run. Writes bench/results/latest.json and latest.md. Only processes it started are stopped.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTokenService, hashPassword } from "@omnilink/domain";
import { busOutagePhase } from "./bus-outage.js";
import { benchConfig, TARGETS } from "./config.js";
import type { BenchGroup, BenchUser, RunContext } from "./context.js";
import { BenchDatabase, bulkLoadHistory, conversationIntegrity, ensureBaselineSender, openBaselineSql, seedUsers, type Sql } from "./db.js";
import { measureBaselineFanout, measureOurFanout } from "./fanout.js";
import { mutate } from "./http.js";
import { createManyGroups, manyGroupsIntegrity, measureManyGroups } from "./many-groups.js";
import { measureMemory } from "./memory.js";
import { sampleWaits, type WaitSummary } from "./pg-waits.js";
import { startServer, serverWarnings, stopAllChildren, type ServerProcess } from "./processes.js";
import { busiestProfile, type ProfileSummary } from "./profile.js";
import { historyCaseName, measureHistory, measureSearch, measureSessions, prepareSessions, searchCaseName, type HistoryCase, type SearchCase } from "./reads.js";
import { startRedis, type RedisProcess } from "./redis.js";
import { boundReading, renderMarkdown, targetsMet, writeResults, type BenchResult, type BusOutageFigures, type ReportNotes, type Skipped, type TwoNodesFigures } from "./report.js";
import { baselineInserts, measureBaselineInserts, measureOurSends, type SendOutcome } from "./send.js";
import { log, pool, round } from "./stats.js";
import { twoNodesPhase } from "./two-nodes.js";
import { startWorker, type ClientWorker } from "./worker-client.js";

const PASSWORD = "bench-password-1";
const resultsDir = fileURLToPath(new URL("../results", import.meta.url));
const profilesDir = join(resultsDir, "profiles");
/**
 * The server's PostgreSQL pool: apps/server passes no size to createDb, so postgres.js gets
 * createDb's default `max` (packages/db/src/client.ts). Not configurable from the environment.
 */
const SERVER_DB_POOL = 10;
/** Whatever happens, the run stops by itself. */
const WATCHDOG_MS = Number(process.env.BENCH_TIMEOUT_S ?? 1500) * 1000;

let cleanup: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  const started = Date.now();
  const startedAt = new Date().toISOString();
  const load0 = loadavg();
  const quick = process.env.BENCH_QUICK === "1";
  const databaseUrl = process.env.DATABASE_URL?.trim() || undefined;
  const workDir = join(tmpdir(), `omnilink-bench-${process.pid}-${randomBytes(3).toString("hex")}`);
  const db = await BenchDatabase.create(databaseUrl, workDir);
  const config = benchConfig(db.kind, quick);
  rmSync(profilesDir, { recursive: true, force: true });
  mkdirSync(profilesDir, { recursive: true });
  const workers: ClientWorker[] = [];
  /** The run's own redis-server (phases "two nodes" and "bus outage"), once started. */
  let redis: RedisProcess | undefined;
  let cleaning: Promise<void> | undefined;
  // One cleanup, however many callers (a signal and the failing run may both ask for it).
  cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all(workers.map((w) => w.stop().catch(() => {})));
      // SIGCONT first, should the run have stopped while Redis was paused.
      await redis?.stop().catch(() => {});
      await stopAllChildren();
      await db.dispose().catch((error: unknown) => log(`could not drop the bench database: ${String(error)}`));
    })());
  log(`database: ${db.kind}${db.name ? ` (${db.name})` : ""}; work dir ${workDir}${quick ? "; QUICK sizes (smoke run)" : ""}`);

  // ---- setup: schema, accounts, tokens -------------------------------------------------------
  await db.migrate();
  const databaseVersion = await db.version();
  const tag = randomBytes(4).toString("hex").slice(0, 5).replace(/^\d/, "b");
  const jwtSecret = randomBytes(24).toString("hex");
  const serverEnv = {
    ...db.serverEnv(),
    JWT_SECRET: jwtSecret,
    // The rate limiter must not interfere with a benchmark.
    GROUP_SEND_BURST: "1000000",
    GROUP_SEND_PER_SECOND: "1000000",
    GROUP_SEND_MEMBER_SHARE: "1",
    WSS_FRAME_BURST: "1000000",
    WSS_FRAMES_PER_SECOND: "1000000",
    WSS_MAX_PENDING_FRAMES: "1000000",
    MAX_GROUP_MEMBERS: "5000",
  };
  // 0–2013: fan-out, send, sessions, history; 2100–2119 and 2200–2599: many groups; 2700–2709: bus outage.
  const userCount = Math.max(config.memory.connections, 2720);
  const passwordHash = await hashPassword(PASSWORD);
  const seeded = await db.access((sql) => seedUsers(sql, userCount, passwordHash, tag));
  const tokens = createTokenService({ secret: jwtSecret, issuer: "OmniLink", expireHours: 24 });
  const users: BenchUser[] = await Promise.all(seeded.map(async (u) => ({ ...u, token: await tokens.sign(u) })));
  log(`seeded ${users.length} accounts`);
  const ctx: RunContext = { db, config, serverEnv, users, tag, profilesDir };
  const at = (i: number) => users[i] as BenchUser;

  const worker = startWorker();
  workers.push(worker);
  const warnings: string[] = [];
  const launch = async (nodeFlags?: string[]): Promise<ServerProcess> => {
    const server = await startServer({ env: serverEnv, ...(nodeFlags ? { nodeFlags } : {}) });
    db.serverRunning = true;
    return server;
  };
  const shutdown = async (server: ServerProcess) => {
    await server.stop();
    db.serverRunning = false;
    warnings.push(...serverWarnings(server.logs));
  };

  // ---- server 1: groups, fan-out, sends, sessions ---------------------------------------------
  let server = await launch();
  log(`server up at ${server.url} (pid ${server.pid})`);
  // The seeded accounts are real: the server logs them in with the bench password.
  await mutate(server.url, "auth.login", { username: at(0).username, password: PASSWORD });

  const createGroupOn = async (url: string, name: string, owner: BenchUser, members: BenchUser[]): Promise<BenchGroup> => {
    const view = await mutate<{ uuid: string }>(url, "groups.create", { name, memberIds: members.map((m) => m.uuid) }, owner.token);
    return { id: view.uuid, members: [owner, ...members] };
  };
  const createGroup = (name: string, owner: BenchUser, members: BenchUser[]) => createGroupOn(server.url, name, owner, members);
  const range = (from: number, count: number) => users.slice(from, from + count);
  const fanoutGroups = new Map<number, BenchGroup>();
  for (const { members } of config.fanout.sizes) fanoutGroups.set(members, await createGroup(`fanout ${members}`, at(0), range(1, members - 1)));
  const sendGroups = new Map<number, BenchGroup>();
  const sendBase: Record<number, number> = { 10: 2000, 1000: 1000 };
  for (const members of config.send.sizes) {
    const from = sendBase[members] ?? 1000;
    sendGroups.set(members, await createGroup(`send ${members}`, at(from), range(from + 1, members - 1)));
  }
  const viewer = at(2010);
  const partner = at(2011);
  const sessionGroups: BenchGroup[] = new Array<BenchGroup>(config.sessions.groups);
  await pool(config.sessions.groups, 8, async (i) => {
    sessionGroups[i] = await createGroup(`sessions ${i}`, viewer, [partner]);
  });
  const historyGroup = await createGroup("history", at(2012), [at(2013)]);
  log(`created ${fanoutGroups.size + sendGroups.size + sessionGroups.length + 1} groups through the API`);

  // ---- fan-out ---------------------------------------------------------------------------------
  const fanoutRows: BenchResult["fanout"] = [];
  const fanoutExtra: ReportNotes["fanoutExtra"] = [];
  let lost = 0;
  let duplicated = 0;
  const integrityExtra: string[] = [];
  for (const { members, messages } of config.fanout.sizes) {
    const group = fanoutGroups.get(members) as BenchGroup;
    log(`fan-out ${members}: ours (${messages} messages)…`);
    const ours = await measureOurFanout(ctx, worker, server, group, messages, `${tag}f${members}`);
    log(`fan-out ${members}: bare ws baseline…`);
    const base = await measureBaselineFanout(ctx, worker, members, ours.result.frameBytes, messages, `${tag}b${members}`);
    fanoutRows.push({
      members,
      delivered_per_s: ours.deliveredPerS,
      baseline_delivered_per_s: base.deliveredPerS,
      ratio: base.deliveredPerS > 0 ? round(ours.deliveredPerS / base.deliveredPerS, 3) : 0,
      p50_ms: ours.p50,
      p99_ms: ours.p99,
    });
    fanoutExtra.push({
      members,
      messages,
      messagesPerS: ours.result.wallMs > 0 ? round(ours.result.completed / (ours.result.wallMs / 1000), 1) : 0,
      frameBytes: ours.result.frameBytes,
      baselineP50: base.p50,
      baselineP99: base.p99,
      serverCpuPct: ours.serverCpuPct,
      baselineCpuPct: base.serverCpuPct,
      workerCpuPct: ours.workerCpuPct,
    });
    lost += ours.result.lost;
    duplicated += ours.result.duplicated;
    integrityExtra.push(
      `fan-out ${members}: ${ours.result.sent} sent, ${ours.result.completed} reached every member${ours.result.timedOut ? " (TIMED OUT)" : ""}; ${ours.result.lost} lost, ${ours.result.duplicated} duplicated, ${ours.result.unexpected} unexpected deliveries (baseline relay: ${base.result.lost} lost).`,
    );
    log(`fan-out ${members}: ours ${ours.deliveredPerS}/s p50 ${ours.p50} ms p99 ${ours.p99} ms; baseline ${base.deliveredPerS}/s`);
  }

  // ---- persisted sends ---------------------------------------------------------------------------
  const baseline = await openBaselineSql(db);
  const sendRows: BenchResult["send"] = [];
  const sendExtra: ReportNotes["sendExtra"] = [];
  const sendOutcomes = new Map<number, SendOutcome & { tag: string }>();
  try {
    for (const members of config.send.sizes) {
      const group = sendGroups.get(members) as BenchGroup;
      const sendTag = `${tag}s${members}`;
      log(`send ${members}: ours (${config.send.messages} messages, ${config.send.concurrency} in flight)…`);
      const ours = await measureOurSends(ctx, worker, server, group, sendTag);
      sendOutcomes.set(members, { ...ours, tag: sendTag });
      log(`send ${members}: single-row INSERT baseline…`);
      const sender = group.members[0] as BenchUser;
      await ensureBaselineSender(db, baseline.sql, sender, passwordHash);
      const basePerS = await measureBaselineInserts(ctx, baseline.sql, await baseline.conversationId(group.id), sender);
      sendRows.push({ members, per_s: ours.perS, baseline_per_s: basePerS, ratio: basePerS > 0 ? round(ours.perS / basePerS, 3) : 0 });
      sendExtra.push({ members, messages: config.send.messages, errors: ours.errors, firstError: ours.firstError, serverCpuPct: ours.serverCpuPct });
      lost += ours.live.lost;
      duplicated += ours.live.duplicated;
      integrityExtra.push(
        `send ${members}: ${ours.acked.length} acknowledged; ${Math.min(config.send.concurrency + config.send.observers, members)} members online: ${ours.live.lost} lost, ${ours.live.duplicated} duplicated, ${ours.live.unexpected} unexpected deliveries.`,
      );
      log(`send ${members}: ours ${ours.perS}/s; baseline ${basePerS}/s`);
    }
  } finally {
    await baseline.sql.close();
  }

  // ---- sessions --------------------------------------------------------------------------------
  log(`sessions: one message into each of ${sessionGroups.length} groups, then ${config.sessions.requests} × sessions.list…`);
  await prepareSessions(server.url, partner, sessionGroups);
  // The tables were filled seconds ago: give the planner the statistics autovacuum would have
  // gathered by now on a live system (without them the list's joins take ~30 ms instead of ~5).
  if (db.kind === "postgres") await db.access((sql: Sql) => sql.query("analyze"));
  const sessions = await measureSessions(ctx, server.url, viewer);
  log(`sessions: p50 ${sessions.p50} ms p99 ${sessions.p99} ms`);

  // ---- many groups: sends spread over many small groups, from several senders ---------------
  const mgc = config.manyGroups;
  log(`many groups: creating ${mgc.groups} groups of ${mgc.membersPerGroup}…`);
  const manyLayout = await createManyGroups(ctx, createGroup, range(2100, mgc.senders), range(2200, mgc.groups * (mgc.membersPerGroup - 1)));
  const manyTag = `${tag}m`;
  log(`many groups: ours (${mgc.messages} messages, ${mgc.senders} senders, ${mgc.inFlight} in flight)…`);
  const many = await measureManyGroups(ctx, worker, server, manyLayout, manyTag);
  log(`many groups: single-row INSERT baseline over the ${mgc.groups} conversations…`);
  const manyBaseline = await openBaselineSql(db);
  let manyBasePerS: number;
  try {
    for (const sender of manyLayout.senders) await ensureBaselineSender(db, manyBaseline.sql, sender, passwordHash);
    const targets = [];
    for (const [g, group] of manyLayout.groups.entries()) {
      targets.push({ conversationId: await manyBaseline.conversationId(group.id), sender: manyLayout.senders[manyLayout.senderOf[g] ?? 0] as BenchUser });
    }
    manyBasePerS = await baselineInserts(manyBaseline.sql, targets, { messages: mgc.messages, concurrency: mgc.inFlight, warmup: mgc.warmup, contentBytes: mgc.contentBytes });
  } finally {
    await manyBaseline.sql.close();
  }
  log(`many groups: ours ${many.perS}/s (echo p50 ${many.p50} ms p99 ${many.p99} ms); baseline ${manyBasePerS}/s`);
  await shutdown(server);

  // ---- with no server: what the database holds, and the history bulk load ----------------------
  let manyCheck: Awaited<ReturnType<typeof manyGroupsIntegrity>> | undefined;
  await db.access(async (sql: Sql) => {
    for (const [members, outcome] of sendOutcomes) {
      const check = await conversationIntegrity(sql, (sendGroups.get(members) as BenchGroup).id, outcome.tag);
      let missing = 0;
      let extra = 0;
      for (const i of outcome.acked) {
        const copies = check.copies.get(i) ?? 0;
        if (copies === 0) missing++;
        if (copies > 1) extra += copies - 1;
      }
      lost += missing;
      duplicated += extra;
      integrityExtra.push(
        `send ${members} in the database: ${missing} acknowledged messages missing, ${extra} stored twice; seqs ${check.dense ? "dense 1..last_seq" : "NOT dense"} (${check.rows} rows, last_seq ${check.lastSeq}).`,
      );
    }
    manyCheck = await manyGroupsIntegrity(sql, manyLayout, manyTag, many.acked);
    log(`history: bulk-loading ${config.history.messages.toLocaleString("en")} messages…`);
    const t0 = Date.now();
    await bulkLoadHistory(sql, { id: historyGroup.id, senderId: at(2012).uuid, senderName: "member 2012" }, config.history.messages, (done) =>
      log(`history: ${done.toLocaleString("en")} rows`),
    );
    log(`history: loaded in ${round((Date.now() - t0) / 1000, 1)} s`);
  });

  // ---- server 2 (fresh process): memory, then history ----------------------------------------
  server = await launch();
  log(`memory: ${config.memory.connections} idle /wss connections…`);
  const memory = await measureMemory(ctx, worker, server, users.slice(0, config.memory.connections));
  log(`memory: ${memory.bytesPerConnection} bytes per connection`);
  const historyCases: HistoryCase[] = ["newest", "cursor", "page", "legacy_page"];
  const historyRows: BenchResult["history"] = [];
  const historyP50 = new Map<HistoryCase, number>();
  for (const which of historyCases) {
    const figure = await measureHistory(ctx, server.url, historyGroup, which);
    historyRows.push({ case: historyCaseName(ctx, which), p50_ms: figure.p50, p99_ms: figure.p99 });
    historyP50.set(which, figure.p50);
    log(`history ${which}: p50 ${figure.p50} ms p99 ${figure.p99} ms`);
  }
  const searchRows: BenchResult["search"] = [];
  for (const which of ["one_rare", "one_common", "all_rare"] as SearchCase[]) {
    const figure = await measureSearch(ctx, server.url, historyGroup, which);
    searchRows.push({ case: searchCaseName(ctx, which), p50_ms: figure.p50, p99_ms: figure.p99 });
    log(`search ${which}: p50 ${figure.p50} ms p99 ${figure.p99} ms`);
  }
  await shutdown(server);

  // ---- two nodes on one PostgreSQL database, Redis between them -----------------------------------
  let twoNodes: TwoNodesFigures | Skipped;
  let busOutage: BusOutageFigures | Skipped;
  let twoNodesExtra: ReportNotes["twoNodesExtra"];
  let busOutageExtra: ReportNotes["busOutageExtra"];
  if (db.kind !== "postgres") {
    const why = "PGlite run (a PGlite database belongs to one process; two nodes need PostgreSQL: set DATABASE_URL)";
    twoNodes = { skipped: why };
    busOutage = { skipped: why };
  } else {
    let redisError = "";
    try {
      redis = await startRedis(join(workDir, "redis"));
      log(`redis-server of this run: pid ${redis.pid}, ${redis.url}`);
    } catch (error) {
      redisError = error instanceof Error ? error.message : String(error);
      log(`could not start redis-server: ${redisError}`);
    }
    const members = config.twoNodes.members;
    const group = fanoutGroups.get(members);
    if (!group) throw new Error(`two nodes: no fan-out group of ${members}`);
    const fanoutRow = fanoutRows.find((f) => f.members === members);
    ({ figures: twoNodes, extra: twoNodesExtra } = await twoNodesPhase(ctx, worker, {
      redis,
      redisError,
      group,
      fanoutPhase: fanoutRow ? { delivered_per_s: fanoutRow.delivered_per_s, p50_ms: fanoutRow.p50_ms, p99_ms: fanoutRow.p99_ms } : undefined,
      warnings,
    }));
    ({ figures: busOutage, extra: busOutageExtra } = await busOutagePhase(ctx, worker, {
      redis,
      redisError,
      createGroup: (url) => createGroupOn(url, "bus outage", at(2700), range(2701, 2 * config.busOutage.membersPerNode - 1)),
      warnings,
    }));
    await redis?.stop();
  }

  const result: BenchResult = {
    machine: {
      cpu_model: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memory_bytes: totalmem(),
      node: process.version,
      os: `linux ${release()}`,
    },
    database: { kind: db.kind, version: databaseVersion },
    fanout: fanoutRows,
    send: sendRows,
    history: historyRows,
    search: searchRows,
    sessions: { groups: config.sessions.groups, p50_ms: sessions.p50, p99_ms: sessions.p99 },
    memory: { connections: memory.connections, bytes_per_connection: memory.bytesPerConnection },
    integrity: { lost, duplicated },
    many_groups: {
      groups: mgc.groups,
      members_per_group: mgc.membersPerGroup,
      senders: mgc.senders,
      in_flight: mgc.inFlight,
      messages: mgc.messages,
      per_s: many.perS,
      baseline_per_s: manyBasePerS,
      ratio: manyBasePerS > 0 ? round(many.perS / manyBasePerS, 3) : 0,
      p50_ms: many.p50,
      p99_ms: many.p99,
      acknowledged: many.acked.length,
      failed: many.errors,
      server_db_pool_max: db.kind === "postgres" ? SERVER_DB_POOL : null,
      integrity: {
        missing_in_database: manyCheck?.missing ?? -1,
        stored_twice: manyCheck?.extra ?? -1,
        duplicated_deliveries: many.duplicated,
        unexpected_deliveries: many.unexpected,
        groups_with_dense_seqs: manyCheck?.denseGroups ?? 0,
      },
    },
    bus_outage: busOutage,
    two_nodes: twoNodes,
    what_bounds_it: [],
  };

  // ---- profiled runs where a target is missed -------------------------------------------------
  const met = targetsMet(result);
  const profiles: ReportNotes["profiles"] = [];
  const profiled = async (name: string, body: (s: ServerProcess) => Promise<{ from: number; to: number }>, waits: boolean) => {
    const dir = join(profilesDir, name);
    mkdirSync(dir, { recursive: true });
    const s = await launch(["--cpu-prof", `--cpu-prof-dir=${dir}`]);
    const sampler = waits && db.url && db.name ? sampleWaits(db.url, db.name) : undefined;
    let window: { from: number; to: number } | undefined;
    let waitSummary: WaitSummary | undefined;
    try {
      window = await body(s);
    } finally {
      waitSummary = await sampler?.stop();
      await shutdown(s);
    }
    const profile: ProfileSummary | undefined = busiestProfile(dir, window.from, window.to);
    return { profile, waits: waitSummary };
  };

  /** The profiled reruns deliver messages too: they count for integrity like the rest of the run. */
  const rerunIntegrity = (what: string, r: { lost: number; duplicated: number; unexpected: number }) => {
    result.integrity.lost += r.lost;
    result.integrity.duplicated += r.duplicated;
    integrityExtra.push(`${what}: ${r.lost} lost, ${r.duplicated} duplicated, ${r.unexpected} unexpected deliveries.`);
  };
  const worstFanout = fanoutRows.filter((_, i) => !met.fanout[i]).sort((a, b) => a.ratio - b.ratio)[0];
  if (worstFanout) {
    log(`profiling fan-out ${worstFanout.members} (ratio ${worstFanout.ratio} < ${TARGETS.fanoutRatio})…`);
    const group = fanoutGroups.get(worstFanout.members) as BenchGroup;
    const count = config.fanout.sizes.find((s) => s.members === worstFanout.members)?.messages ?? 50;
    const r = await profiled(
      `fanout-${worstFanout.members}`,
      async (s) => {
        const side = await measureOurFanout(ctx, worker, s, group, count, `${tag}pf`);
        rerunIntegrity(`profiled fan-out ${worstFanout.members} rerun`, side.result);
        return { from: side.result.startedAtMs, to: side.result.endedAtMs };
      },
      true,
    );
    profiles.push({
      phase: `fan-out, ${worstFanout.members} members`,
      why: `Ratio ${worstFanout.ratio} to the bare \`ws\` relay (target ≥ ${TARGETS.fanoutRatio}). Profiled rerun of the same workload on a server started with --cpu-prof.`,
      ...r,
    });
  }
  const worstSend = sendRows.filter((_, i) => !met.send[i]).sort((a, b) => a.ratio - b.ratio)[0];
  if (worstSend) {
    log(`profiling sends to a group of ${worstSend.members} (ratio ${worstSend.ratio} < ${TARGETS.sendRatio})…`);
    const group = sendGroups.get(worstSend.members) as BenchGroup;
    const r = await profiled(
      `send-${worstSend.members}`,
      async (s) => {
        const outcome = await measureOurSends(ctx, worker, s, group, `${tag}ps`);
        rerunIntegrity(`profiled send ${worstSend.members} rerun (${outcome.acked.length} acknowledged, ${outcome.errors} failed)`, outcome.live);
        return { from: outcome.startedAtMs, to: outcome.endedAtMs };
      },
      true,
    );
    profiles.push({
      phase: `persisted sends, group of ${worstSend.members}`,
      why: `Ratio ${worstSend.ratio} to single-row INSERTs (target ≥ ${TARGETS.sendRatio}). Profiled rerun of the same workload on a server started with --cpu-prof.`,
      ...r,
    });
  }
  if (!met.manyGroups) {
    const count = Math.min(mgc.profileMessages, mgc.messages);
    log(`profiling many groups (ratio ${result.many_groups.ratio} < ${TARGETS.manyGroupsRatio}; ${count} messages)…`);
    const rerunCtx: RunContext = { ...ctx, config: { ...config, manyGroups: { ...mgc, messages: count } } };
    const rerunTag = `${tag}pm`;
    let rerun: Awaited<ReturnType<typeof measureManyGroups>> | undefined;
    const r = await profiled(
      "many-groups",
      async (s) => {
        rerun = await measureManyGroups(rerunCtx, worker, s, manyLayout, rerunTag);
        return { from: rerun.startedAtMs, to: rerun.endedAtMs };
      },
      true,
    );
    if (rerun) {
      // Its sends are stored and echoed too: checked like the phase's own (server stopped by now).
      const acked = rerun.acked;
      const check = await db.access((sql: Sql) => manyGroupsIntegrity(sql, manyLayout, rerunTag, acked));
      const i = result.many_groups.integrity;
      i.missing_in_database += check.missing;
      i.stored_twice += check.extra;
      i.duplicated_deliveries += rerun.duplicated;
      i.unexpected_deliveries += rerun.unexpected;
      i.groups_with_dense_seqs = Math.min(i.groups_with_dense_seqs, check.denseGroups);
      integrityExtra.push(
        `profiled many-groups rerun: ${rerun.acked.length} of ${count} acknowledged (${rerun.perS}/s on the profiling server), ${rerun.errors} failed; in the database ${check.missing} acknowledged missing, ${check.extra} stored twice, seqs dense in ${check.denseGroups}/${check.groups} groups; on the senders' sockets ${rerun.duplicated} duplicated, ${rerun.unexpected} unexpected deliveries (counted in the many-groups integrity figures).`,
      );
    }
    profiles.push({
      phase: `many groups: ${mgc.groups} groups × ${mgc.membersPerGroup}, ${mgc.senders} senders, ${mgc.inFlight} in flight`,
      why: `Ratio ${result.many_groups.ratio} to single-row INSERTs spread over the same conversations (target ≥ ${TARGETS.manyGroupsRatio}). Profiled rerun of the same workload (${count === mgc.messages ? `${count} messages` : `${count} messages instead of ${mgc.messages}`}, after the same ${mgc.warmup} warm-up) on a server started with --cpu-prof.`,
      ...r,
      ...(db.kind === "postgres" ? { pool_max: SERVER_DB_POOL } : {}),
    });
  }
  if (!met.historyCursor) {
    // The cursor case (newest page or deep) with the worse p50.
    const which: HistoryCase = (historyP50.get("newest") ?? 0) > (historyP50.get("cursor") ?? 0) ? "newest" : "cursor";
    log(`profiling history (${which})…`);
    const r = await profiled(
      `history-${which}`,
      async (s) => {
        const figure = await measureHistory(ctx, s.url, historyGroup, which);
        return { from: figure.startedAtMs, to: figure.endedAtMs };
      },
      true,
    );
    profiles.push({
      phase: `history: ${historyCaseName(ctx, which)}`,
      why: `p50 ${historyP50.get(which)} ms, above ${TARGETS.historyCursorP50Ms} ms. Profiled rerun of the same ${config.history.requests} requests on a server started with --cpu-prof.`,
      ...r,
    });
  }
  if (!met.memory) {
    profiles.push({
      phase: "memory per idle connection",
      why: `Above 30 KiB per connection: a CPU profile does not apply; see the RSS figures in Details.`,
      profile: undefined,
      waits: undefined,
    });
  }

  result.what_bounds_it = profiles.map((p) => ({ ...p, reading: boundReading(p) }));

  const durationS = round((Date.now() - started) / 1000, 0);
  const notes: ReportNotes = {
    startedAt,
    durationS,
    loadAverage: { start: load0, end: loadavg() },
    sizes: [
      `fan-out: ${config.fanout.sizes.map((s) => `${s.members} members × ${s.messages} messages`).join(", ")}; at most ${config.fanout.window} messages in flight (sent, not yet at every member); ${config.fanout.warmup} warm-up messages first; ${config.fanout.contentBytes}-byte text content.`,
      `send: ${config.send.messages} messages per group size, ${config.send.concurrency} in flight over the legacy /wss protocol (each sender socket sends its next message when the server echoes the previous one, i.e. after its commit), every open socket (up to ${config.send.concurrency + config.send.observers} members) counting deliveries; the baseline inserts as many rows with the same concurrency.`,
      `history: ${config.history.messages.toLocaleString("en")} messages in one group, pages of ${config.history.pageSize}, ${config.history.requests} sequential requests per case after ${config.history.warmup} warm-up.`,
      `sessions: viewer in ${config.sessions.groups} groups, each with an unread message; ANALYZE first (PostgreSQL), as autovacuum would have on a live system; ${config.sessions.requests} sequential requests.`,
      `memory: ${config.memory.connections} legacy /wss connections of distinct users, on a freshly started server process.`,
      `many groups: ${mgc.groups} groups of ${mgc.membersPerGroup} members; ${mgc.senders} senders, each the owner of ${Math.ceil(mgc.groups / mgc.senders)} groups and sending to them in turn; ${mgc.messages} messages (after ${mgc.warmup} warm-up), ${mgc.inFlight} in flight in total (lane l sends as sender l mod ${mgc.senders}: ${mgc.inFlight % mgc.senders} senders with ${Math.ceil(mgc.inFlight / mgc.senders)} lanes, the others ${Math.floor(mgc.inFlight / mgc.senders)}); only the senders online; the baseline inserts as many rows with the same concurrency, round-robin over the same ${mgc.groups} conversations.`,
      db.kind === "postgres"
        ? `bus outage: one group of ${2 * config.busOutage.membersPerNode}, ${config.busOutage.membersPerNode} members connected to each node (the sender on node 1); ${config.busOutage.perS} messages/s for ${config.busOutage.beforeS} s, Redis stopped ${config.busOutage.outageS} s, ${config.busOutage.afterS} s after; up to 30 s for node 2 to catch up.`
        : `bus outage: skipped (PGlite).`,
      db.kind === "postgres"
        ? `two nodes: the fan-out group of ${config.twoNodes.members}, ${config.twoNodes.messages} messages per run (window ${config.fanout.window}, ${config.fanout.warmup} warm-up), all on node 1 alone, then split ${Math.ceil(config.twoNodes.members / 2)} / ${config.twoNodes.members - Math.ceil(config.twoNodes.members / 2)} over nodes 1 and 2.`
        : `two nodes: skipped (PGlite).`,
      ...(db.kind === "pglite" ? ["PGlite: smaller send and history sizes than the PostgreSQL run (one embedded single-connection database inside the server process)."] : []),
    ],
    method: [
      `Server: apps/server/src/main.ts as its own process (node --import tsx), 127.0.0.1, LOG_LEVEL=warn, GROUP_SEND_BURST/GROUP_SEND_PER_SECOND=1000000, GROUP_SEND_MEMBER_SHARE=1, WSS_FRAME_BURST/WSS_FRAMES_PER_SECOND/WSS_MAX_PENDING_FRAMES=1000000; clients: a separate Node process holding the WebSockets (\`ws\`, no compression).`,
      `Accounts: inserted directly into user_info with a valid scrypt hash (one login through the API checks it); tokens signed with the server's JWT_SECRET. Groups: created through tRPC groups.create.`,
      `fan-out: one member sends through its /wss socket; latency = send → the last member (sender included) has the message; delivered/s = member deliveries / (first send → last delivery). Baseline: a bare \`ws\` server in its own process relaying each frame to every client, frames padded to the size our server delivers, same client process and send pattern.`,
      `send: per_s = acknowledged sends / wall time. Baseline: single-row autocommitted INSERTs of equivalent rows (same columns, same indexes, CHECKs and foreign keys: a copy of \`message\` with its own id sequence) through ${db.kind === "postgres" ? `postgres.js (pool of ${SERVER_DB_POOL}, the server's size)` : "PGlite (its own instance in the bench process)"}.`,
      `history: rows bulk-loaded with INSERT … SELECT generate_series while no server runs (ids from event_stream_seq, dense seqs, conversation.last_seq = count), then ANALYZE; requests over HTTP, end to end.`,
      `memory: (VmRSS with the connections open − VmRSS before) / connections, each read once RSS has stopped moving (3 s within 0.5 %).`,
      `integrity: every (member, message) pair of our fan-out runs and of the online send observers, plus every acknowledged send checked in the database (present once, seqs dense).`,
      `many groups: each lane sends its next message over /wss once its socket gets the previous one back (the echo, after the commit); per_s = acknowledged sends / wall time, latency = send → echo. Baseline: single-row autocommitted INSERTs into the copy of \`message\` as for *send*, ${mgc.inFlight} in flight, row i into conversation i mod ${mgc.groups} with that conversation's next seq, through ${db.kind === "postgres" ? `postgres.js (pool of ${SERVER_DB_POOL}, the server's size)` : "PGlite (its own instance in the bench process)"}. Integrity: every acknowledged message stored exactly once (in the database, with no server running), every group's seqs dense 1..last_seq, and each message delivered once to its sender's socket and to no other.`,
      ...(db.kind === "postgres"
        ? [
            `bus outage: two server processes on the run's database (same JWT_SECRET, own DATA_DIRs, REDIS_URL = a redis-server this run starts, \`--save "" --appendonly no\`, a run-specific REDIS_CHANNEL). The sender sends on a fixed schedule whatever the echoes (open loop); each message is classed before / during / after by its send time; latency = send → echo on the sender's socket. Redis is paused with SIGSTOP (its connections stay open, nothing answers: the worst case) and resumed with SIGCONT, by its pid. Members: lost = acknowledged messages a member never got (waiting up to 30 s after the last send), out of order = a first delivery with a lower seq than one the member already had. The database check is the one of *send*.`,
            `two nodes: the fan-out measurement (see fan-out) with REDIS_URL set on the nodes (${process.env.REDIS_URL?.trim() ? "the Redis at REDIS_URL" : "the redis-server this run starts"}, run-specific channel); the one-node figure is node 1 alone before node 2 starts, same group, same run (so node 1 is warm for the split run and node 2 starts cold; each run has its own warm-up); ratio = two-node / one-node deliveries/s; server CPU summed over the nodes.`,
          ]
        : []),
    ],
    fanoutExtra,
    sendExtra,
    integrityExtra,
    memoryExtra: { before: memory.before, after: memory.after },
    serverWarnings: warnings,
    manyGroupsExtra: {
      serverCpuPct: many.serverCpuPct,
      errorFrames: many.errorFrames,
      firstErrorFrame: many.firstErrorFrame,
      baseline: `${mgc.messages} single-row INSERTs, ${mgc.inFlight} in flight, over the ${mgc.groups} conversations (each with its own seq counter)`,
      serverPool:
        db.kind === "postgres"
          ? `postgres.js, max ${SERVER_DB_POOL} connections (createDb's default in packages/db/src/client.ts; the server sets no size)`
          : "PGlite, one embedded connection inside the server process",
      integrityLine: manyCheck
        ? `In the database: ${manyCheck.rows} rows in the ${manyCheck.groups} groups (warm-up included); ${manyCheck.missing} acknowledged missing, ${manyCheck.extra} stored twice; seqs dense in ${manyCheck.denseGroups}/${manyCheck.groups} groups. On the senders' sockets: ${many.duplicated} duplicated, ${many.unexpected} unexpected deliveries.`
        : "Database check not run.",
    },
    ...(busOutageExtra ? { busOutageExtra } : {}),
    ...(twoNodesExtra ? { twoNodesExtra } : {}),
    profiles,
  };
  writeResults(resultsDir, result, renderMarkdown(result, notes));
  log(`done in ${durationS} s: bench/results/latest.json and latest.md`);
}

const watchdog = setTimeout(() => {
  log(`watchdog: the run took longer than ${WATCHDOG_MS / 1000} s; stopping`);
  void (cleanup?.() ?? Promise.resolve()).finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  // `on`, not `once`: a second signal (Ctrl-C reaches the whole process group, and tsx relays it
  // too) must not kill the run halfway through its cleanup.
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping the processes this run started`);
    void (cleanup?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

try {
  await main();
  await cleanup?.();
  process.exit(0);
} catch (error) {
  if (!interrupted) log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await cleanup?.();
  process.exit(interrupted ? 130 : 1);
}
