import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { repoRoot } from "./processes.js";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Milliseconds of samples inside the window. */
  windowMs: number;
  /** Share of the window the server's JS thread was idle (waiting on I/O: database, sockets). */
  idlePct: number;
  gcPct: number;
  topFunctions: Array<{ name: string; where: string; selfMs: number; pct: number }>;
  topModules: Array<{ module: string; selfMs: number; pct: number }>;
}

function where(url: string, line: number): string {
  if (!url) return "";
  const path = url.startsWith("file://") ? decodeURIComponent(url.slice(7)) : url;
  const short = path.startsWith("/") ? relative(repoRoot, path) : path;
  return `${short}:${line + 1}`;
}

/** What a frame belongs to: a package, a node: module, our own code, or a V8 pseudo-frame. */
function moduleOf(node: CpuProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native / builtins)";
  const path = url.startsWith("file://") ? decodeURIComponent(url.slice(7)) : url;
  if (path.startsWith("node:")) return path.split("/").slice(0, 2).join("/");
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = path.slice(nm + 13).split("/");
    return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
  }
  const rel = relative(repoRoot, path);
  const parts = rel.split("/");
  return parts.length > 2 ? parts.slice(0, 2).join("/") : rel;
}

/**
 * The profile of the thread that did the work: Node writes one file per thread (the main thread,
 * and e.g. the module-loader thread of `--import tsx`), so pick the busiest in the window.
 */
export function busiestProfile(dir: string, fromMs: number, toMs: number): ProfileSummary | undefined {
  const summaries = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => summariseProfile(join(dir, f), fromMs, toMs));
  summaries.sort((a, b) => b.windowMs * (100 - b.idlePct) - a.windowMs * (100 - a.idlePct));
  return summaries[0];
}

/**
 * Self time per function and per module over the samples taken in [fromMs, toMs] (process.hrtime
 * milliseconds: V8's profile clock is the same monotonic clock), or over the whole profile when
 * the window holds no sample.
 */
function summariseProfile(file: string, fromMs: number, toMs: number, top = 10): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push((t += d));
  const inWindow = (us: number) => us / 1000 >= fromMs && us / 1000 <= toMs;
  const useWindow = times.some(inWindow);
  const selfByNode = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const at = times[i] ?? 0;
    if (useWindow && !inWindow(at)) continue;
    const next = times[i + 1];
    const duration = next !== undefined ? next - at : 0;
    const id = profile.samples[i] ?? 0;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + duration);
    total += duration;
  }
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byModule = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const [id, us] of selfByNode) {
    const node = byId.get(id);
    if (!node) continue;
    const name = node.callFrame.functionName || "(anonymous)";
    if (name === "(idle)") idle += us;
    if (name === "(garbage collector)") gc += us;
    const loc = where(node.callFrame.url, node.callFrame.lineNumber);
    const key = `${name}@${loc}`;
    const f = byFunction.get(key) ?? { name, where: loc, us: 0 };
    f.us += us;
    byFunction.set(key, f);
    const m = moduleOf(node);
    byModule.set(m, (byModule.get(m) ?? 0) + us);
  }
  const pct = (us: number) => (total > 0 ? Math.round((1000 * us) / total) / 10 : 0);
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    file: relative(repoRoot, file),
    windowMs: ms(total),
    idlePct: pct(idle),
    gcPct: pct(gc),
    topFunctions: [...byFunction.values()]
      .filter((f) => f.name !== "(idle)")
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: ms(f.us), pct: pct(f.us) })),
    topModules: [...byModule.entries()]
      .filter(([m]) => m !== "(idle)")
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([module, us]) => ({ module, selfMs: ms(us), pct: pct(us) })),
  };
}
