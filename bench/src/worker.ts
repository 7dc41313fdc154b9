/**
 * A client process holding many WebSockets (legacy /wss clients, or clients of the bare baseline
 * server). Driven over IPC by the bench (see worker-protocol.ts); it never decides anything alone
 * and exits when its parent goes away.
 */
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import type {
  FanoutArgs,
  FanoutResult,
  IntegrityResult,
  ReceivedLog,
  SendManyArgs,
  SendManyResult,
  SendPacedArgs,
  SendPacedResult,
  SendSpreadArgs,
  SendSpreadResult,
  WorkerMessage,
  WorkerReply,
  WorkerRequests,
} from "./worker-protocol.js";

const sockets: WebSocket[] = [];
let unexpectedCloses = 0;
let errorFrames = 0;
let firstErrorFrame: string | undefined;
let closingAll = false;

/** process.hrtime in ms: one monotonic clock shared with the bench process (performance.now() is per process). */
const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What is being counted: deliveries of messages whose content starts with `<tag>:<index>:`. */
interface Tracker {
  tag: string;
  prefix: string;
  count: number;
  width: number;
  /** counts[socket * count + index] = times that socket received that message. */
  counts: Uint16Array;
  isMember: Uint8Array;
  memberCount: number;
  /** Members that have each message. */
  reached: Uint32Array;
  lastAt: Float64Array;
  frameBytes: number;
  onComplete?: (index: number) => void;
  /** Called when a socket first receives a message (member or not): senders' acknowledgements. */
  onReceive?: (socket: number, index: number) => void;
  /** Every arrival per socket, in order (only when tracking with `log`). */
  log?: ReceivedLog[];
}

let tracker: Tracker | undefined;

function startTracking(tag: string, count: number, members: number[], log = false): Tracker {
  const width = sockets.length;
  const isMember = new Uint8Array(width);
  for (const m of members) isMember[m] = 1;
  tracker = {
    tag,
    prefix: `${tag}:`,
    count,
    width,
    counts: new Uint16Array(width * count),
    isMember,
    memberCount: members.length,
    reached: new Uint32Array(count),
    lastAt: new Float64Array(count),
    frameBytes: 0,
    ...(log ? { log: Array.from({ length: width }, () => ({ indexes: [], seqs: [], atMs: [] })) } : {}),
  };
  return tracker;
}

function onFrame(socket: number, data: Buffer): void {
  const t = tracker;
  if (!t || socket >= t.width) return;
  const text = data.toString("utf8");
  if (!text.includes(t.prefix)) {
    if (text.startsWith('{"type":"error"')) {
      errorFrames++;
      firstErrorFrame ??= text.slice(0, 300);
    }
    return;
  }
  let frame: { content?: unknown; seq?: unknown };
  try {
    frame = JSON.parse(text) as { content?: unknown; seq?: unknown };
  } catch {
    return;
  }
  const content = frame.content;
  if (typeof content !== "string" || !content.startsWith(t.prefix)) return;
  const index = Number.parseInt(content.slice(t.prefix.length), 10);
  if (!(index >= 0 && index < t.count)) return;
  if (t.frameBytes === 0) t.frameBytes = data.length;
  const k = socket * t.count + index;
  const entry = t.log?.[socket];
  if (entry) {
    entry.indexes.push(index);
    entry.seqs.push(typeof frame.seq === "number" ? frame.seq : -1);
    entry.atMs.push(hrMs());
  }
  const seen = t.counts[k] ?? 0;
  t.counts[k] = seen + 1;
  if (seen === 0) t.onReceive?.(socket, index);
  if (seen === 0 && t.isMember[socket]) {
    const reached = (t.reached[index] ?? 0) + 1;
    t.reached[index] = reached;
    t.lastAt[index] = performance.now();
    if (reached === t.memberCount) t.onComplete?.(index);
  }
}

function integrity(t: Tracker, expected: Iterable<number>): IntegrityResult {
  const want = new Uint8Array(t.count);
  for (const i of expected) if (i >= 0 && i < t.count) want[i] = 1;
  let lost = 0;
  let duplicated = 0;
  let unexpected = 0;
  for (let s = 0; s < t.width; s++) {
    for (let i = 0; i < t.count; i++) {
      const c = t.counts[s * t.count + i] ?? 0;
      if (c > 1) duplicated += c - 1;
      if (!want[i] || !t.isMember[s]) unexpected += c > 0 ? 1 : 0;
      else if (c === 0) lost++;
    }
  }
  return { lost, duplicated, unexpected };
}

async function open(urls: string[], concurrency: number): Promise<WorkerRequests["open"]["result"]> {
  let next = 0;
  let opened = 0;
  let failed = 0;
  let firstError: string | undefined;
  // Sockets take their indexes in the order of `urls`, not in the order their handshakes complete:
  // callers address them by position (the sender, the members on each node).
  const slots = new Array<WebSocket | undefined>(urls.length);
  const lane = async () => {
    while (next < urls.length) {
      const k = next++;
      try {
        const ws = await connect(urls[k] as string);
        ws.on("close", () => {
          if (!closingAll) unexpectedCloses++;
        });
        slots[k] = ws;
        opened++;
      } catch (error) {
        failed++;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  for (const ws of slots) {
    if (!ws) continue;
    const index = sockets.length;
    sockets.push(ws);
    ws.on("message", (data: Buffer) => onFrame(index, data));
  }
  return { opened, failed, firstError };
}

function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 30_000 });
    ws.once("open", () => {
      ws.removeAllListeners("error");
      ws.on("error", () => {});
      resolve(ws);
    });
    ws.once("unexpected-response", (_req, res) => {
      reject(new Error(`handshake refused: HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

async function closeAll(): Promise<{ closed: number }> {
  closingAll = true;
  const all = sockets.splice(0, sockets.length);
  await Promise.all(
    all.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 5_000);
          ws.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close();
        }),
    ),
  );
  tracker = undefined;
  closingAll = false;
  unexpectedCloses = 0;
  errorFrames = 0;
  firstErrorFrame = undefined;
  return { closed: all.length };
}

function frameFor(args: FanoutArgs, tag: string, index: number): string {
  const head = `${tag}:${index}:`;
  if (args.mode === "omnilink") {
    return JSON.stringify({ receive_id: args.groupId, type: 0, content: head.padEnd(args.contentBytes, "x") });
  }
  const bare = (content: string) => JSON.stringify({ receive_id: args.groupId, type: 0, content });
  const pad = Math.max(0, args.frameBytes - bare(head).length);
  return bare(head + "x".repeat(pad));
}

/** Sends `count` messages from one socket, keeping at most `window` incomplete; see FanoutArgs. */
function runMessages(args: FanoutArgs, tag: string, count: number, window: number, timeoutMs: number) {
  const members = sockets.map((_, i) => i);
  const t = startTracking(tag, count, members);
  const sender = sockets[args.sender];
  if (!sender) throw new Error(`no socket ${args.sender}`);
  const sentAt = new Float64Array(count);
  const latencies: number[] = [];
  let sent = 0;
  let inFlight = 0;
  let completed = 0;
  return new Promise<{ t: Tracker; sent: number; completed: number; latencies: number[]; firstSend: number; timedOut: boolean }>((resolve) => {
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      t.onComplete = undefined;
      resolve({ t, sent, completed, latencies, firstSend: sentAt[0] ?? 0, timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    const pump = () => {
      while (inFlight < window && sent < count) {
        sentAt[sent] = performance.now();
        sender.send(frameFor(args, tag, sent));
        sent++;
        inFlight++;
      }
    };
    t.onComplete = (index) => {
      latencies.push((t.lastAt[index] ?? 0) - (sentAt[index] ?? 0));
      completed++;
      inFlight--;
      if (completed === count) finish(false);
      else pump();
    };
    pump();
  });
}

async function fanout(args: FanoutArgs): Promise<FanoutResult> {
  // Warm-up (not measured): code paths, sockets, and the size of a delivered frame.
  let frameBytes = args.frameBytes;
  if (args.warmup > 0) {
    const w = await runMessages(args, `${args.tag}w`, args.warmup, 1, Math.min(args.timeoutMs, 30_000));
    if (w.timedOut) throw new Error(`warm-up messages did not reach every member (${w.completed}/${args.warmup})`);
    frameBytes = w.t.frameBytes;
  }
  const cpu0 = process.cpuUsage();
  const startedAtMs = Number(process.hrtime.bigint()) / 1e6;
  const run = await runMessages(args, args.tag, args.count, args.window, args.timeoutMs);
  let lastDelivery = run.firstSend;
  for (let i = 0; i < args.count; i++) lastDelivery = Math.max(lastDelivery, run.t.lastAt[i] ?? 0);
  const endedAtMs = Number(process.hrtime.bigint()) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  // Late duplicates would arrive right after the last delivery: give them a moment.
  await new Promise((r) => setTimeout(r, 300));
  const sentIndexes = Array.from({ length: run.sent }, (_, i) => i);
  const check = integrity(run.t, sentIndexes);
  let deliveries = 0;
  for (let i = 0; i < args.count; i++) deliveries += run.t.reached[i] ?? 0;
  return {
    ...check,
    sent: run.sent,
    completed: run.completed,
    latenciesMs: run.latencies,
    deliveries,
    wallMs: lastDelivery - run.firstSend,
    frameBytes: args.mode === "omnilink" ? run.t.frameBytes || frameBytes : frameBytes,
    workerCpuMs: (cpu.user + cpu.system) / 1000,
    startedAtMs,
    endedAtMs,
    timedOut: run.timedOut,
  };
}

/**
 * Persisted sends over /wss: each sender socket sends its next message as soon as its previous
 * one comes back to it (the server echoes a message to its sender once it is committed).
 */
async function sendMany(args: SendManyArgs): Promise<SendManyResult> {
  const t = tracker;
  if (!t || t.tag !== args.tag) throw new Error("sendMany: track the tag first");
  const waiting = listenForEchoes(t);
  const acked: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    args.senders.map(async (socketIndex) => {
      const ws = sockets[socketIndex];
      if (!ws) throw new Error(`no socket ${socketIndex}`);
      while (next < args.count) {
        const i = next++;
        const echoed = echoOf(waiting, socketIndex * t.count + i, args.timeoutMs);
        ws.send(JSON.stringify({ receive_id: args.groupId, type: 0, content: `${args.tag}:${i}:`.padEnd(args.contentBytes, "x") }));
        if (await echoed) acked.push(i);
        else errors++;
      }
    }),
  );
  t.onReceive = undefined;
  return { acked, errors, wallMs: performance.now() - started };
}

/** Routes the tracker's arrivals (socket, message index) to whoever waits for that echo. */
function listenForEchoes(t: NonNullable<typeof tracker>): Map<number, () => void> {
  const waiting = new Map<number, () => void>();
  t.onReceive = (socket, index) => {
    const key = socket * t.count + index;
    const resolve = waiting.get(key);
    if (resolve) {
      waiting.delete(key);
      resolve();
    }
  };
  return waiting;
}

/** Resolves `true` once `key` is acknowledged through `waiting`, `false` after `timeoutMs`. */
function echoOf(waiting: Map<number, () => void>, key: number, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      waiting.delete(key);
      resolve(false);
    }, timeoutMs);
    waiting.set(key, () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Persisted sends to many groups (see SendSpreadArgs). The sockets share no group and the other
 * members are offline: each message should reach its sender's socket exactly once, and no other.
 */
async function sendSpread(args: SendSpreadArgs): Promise<SendSpreadResult> {
  const t = tracker;
  if (!t || t.tag !== args.tag) throw new Error("sendSpread: track the tag first");
  if (args.senders.length === 0) throw new Error("sendSpread: no senders");
  const waiting = listenForEchoes(t);
  const senderOf = new Int32Array(args.count).fill(-1);
  const turn = args.senders.map(() => 0);
  const acked: number[] = [];
  const latenciesMs: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: args.inFlight }, async (_, lane) => {
      const k = lane % args.senders.length;
      const sender = args.senders[k];
      const ws = sender ? sockets[sender.socket] : undefined;
      if (!sender || !ws || sender.groupIds.length === 0) throw new Error(`sendSpread: bad sender ${k}`);
      while (next < args.count) {
        const i = next++;
        const g = turn[k] ?? 0;
        turn[k] = g + 1;
        const groupId = sender.groupIds[g % sender.groupIds.length] as string;
        senderOf[i] = sender.socket;
        const echoed = echoOf(waiting, sender.socket * t.count + i, args.timeoutMs);
        const t0 = performance.now();
        ws.send(JSON.stringify({ receive_id: groupId, type: 0, content: `${args.tag}:${i}:`.padEnd(args.contentBytes, "x") }));
        if (await echoed) {
          acked.push(i);
          latenciesMs.push(performance.now() - t0);
        } else errors++;
      }
    }),
  );
  const wallMs = performance.now() - started;
  t.onReceive = undefined;
  // Late duplicates would arrive right after the last echo: give them a moment.
  await sleep(300);
  let duplicated = 0;
  let unexpected = 0;
  for (let s = 0; s < t.width; s++) {
    for (let i = 0; i < t.count; i++) {
      const c = t.counts[s * t.count + i] ?? 0;
      if (c === 0) continue;
      if (s === senderOf[i]) duplicated += c - 1;
      else unexpected += c;
    }
  }
  return { acked, errors, wallMs, latenciesMs, duplicated, unexpected };
}

/** Open loop: message i leaves at start + i / perS, echoed or not (see SendPacedArgs). */
async function sendPaced(args: SendPacedArgs): Promise<SendPacedResult> {
  const t = tracker;
  if (!t || t.tag !== args.tag) throw new Error("sendPaced: track the tag first");
  const ws = sockets[args.socket];
  if (!ws) throw new Error(`no socket ${args.socket}`);
  const sentAt = new Float64Array(args.count);
  const echoMs = new Float64Array(args.count).fill(-1);
  let sent = 0;
  let pending = 0;
  let allEchoed: (() => void) | undefined;
  t.onReceive = (socket, index) => {
    if (socket !== args.socket || index >= sent || (echoMs[index] ?? 0) >= 0) return;
    echoMs[index] = hrMs() - (sentAt[index] ?? 0);
    pending--;
    if (pending === 0) allEchoed?.();
  };
  const interval = 1000 / args.perS;
  const t0 = hrMs();
  for (let i = 0; i < args.count; i++) {
    const wait = t0 + i * interval - hrMs();
    if (wait > 1) await sleep(wait);
    sentAt[i] = hrMs();
    sent = i + 1;
    pending++;
    ws.send(JSON.stringify({ receive_id: args.groupId, type: 0, content: `${args.tag}:${i}:`.padEnd(args.contentBytes, "x") }));
  }
  if (pending > 0) {
    await Promise.race([new Promise<void>((resolve) => (allEchoed = resolve)), sleep(args.timeoutMs)]);
  }
  t.onReceive = undefined;
  return { sentAtMs: Array.from(sentAt), echoMs: Array.from(echoMs) };
}

async function report(expected: number[], waitMs: number): Promise<IntegrityResult> {
  const t = tracker;
  if (!t) throw new Error("not tracking");
  const deadline = Date.now() + waitMs;
  const complete = () => expected.every((i) => (t.reached[i] ?? 0) >= t.memberCount);
  while (!complete() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  return integrity(t, expected);
}

async function handle(message: WorkerMessage): Promise<unknown> {
  switch (message.cmd) {
    case "open": {
      const a = message.args as WorkerRequests["open"]["args"];
      return open(a.urls, a.concurrency);
    }
    case "closeAll":
      return closeAll();
    case "fanout":
      return fanout(message.args as FanoutArgs);
    case "track": {
      const a = message.args as WorkerRequests["track"]["args"];
      startTracking(a.tag, a.count, a.members, a.log ?? false);
      return { tracking: a.members.length };
    }
    case "sendMany":
      return sendMany(message.args as SendManyArgs);
    case "sendSpread":
      return sendSpread(message.args as SendSpreadArgs);
    case "sendPaced":
      return sendPaced(message.args as SendPacedArgs);
    case "received": {
      const a = message.args as WorkerRequests["received"]["args"];
      const log = tracker?.log;
      if (!log) throw new Error("received: track with log first");
      return a.sockets.map((s) => log[s] ?? { indexes: [], seqs: [], atMs: [] });
    }
    case "report": {
      const a = message.args as WorkerRequests["report"]["args"];
      return report(a.expected, a.waitMs);
    }
    case "status":
      return { open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length, unexpectedCloses, errorFrames, firstErrorFrame };
  }
}

process.on("message", (raw: WorkerMessage) => {
  handle(raw).then(
    (result) => process.send?.({ id: raw.id, ok: true, result } satisfies WorkerReply),
    (error: unknown) => process.send?.({ id: raw.id, ok: false, error: String(error instanceof Error ? (error.stack ?? error) : error) } satisfies WorkerReply),
  );
});
// The bench owns this process: when it goes away (IPC closed), so does the worker.
process.on("disconnect", () => process.exit(0));
