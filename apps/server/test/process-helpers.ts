import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { fileURLToPath } from "node:url";

const serverDir = fileURLToPath(new URL("..", import.meta.url));
/** The repository root, where the README's commands are run. */
export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

export interface SpawnedServer {
  child: ChildProcess;
  /** http://host:port from the server's ready log line. */
  url: string;
  /** Everything written to stdout and stderr so far (and after). */
  logs: string[];
}

/** Starts `src/main.ts` as the run command does and resolves with the URL from its ready log line. */
export function spawnServer(env: Record<string, string>): Promise<SpawnedServer> {
  return launch(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
  });
}

/**
 * Runs a command that ends in the server (e.g. `npm start`) and resolves once the server logs that
 * it is ready; `timeoutMs` bounds the whole start, build included.
 */
export function launch(command: string, args: string[], options: SpawnOptions & { timeoutMs?: number }): Promise<SpawnedServer> {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  const logs: string[] = [];
  return new Promise<SpawnedServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started server behind (the whole group when it has one of its own).
      kill(child, "SIGKILL", options.detached === true);
      reject(new Error(`server did not start:\n${logs.join("")}`));
    }, options.timeoutMs ?? 30_000);
    child.stderr?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    // Lines can span chunks: only whole lines are looked at.
    let pending = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      logs.push(chunk.toString());
      const lines = (pending + chunk.toString()).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.includes("OmniLink server ready")) continue;
        clearTimeout(timer);
        resolve({ child, url: (JSON.parse(line) as { url: string }).url, logs });
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code ?? signal}:\n${logs.join("")}`));
    });
  });
}

/** Signals a child, or with `group` every process of its group (it must have been spawned detached). */
export function kill(child: ChildProcess, signal: NodeJS.Signals, group: boolean): void {
  if (child.pid === undefined) return;
  try {
    if (group) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // Already gone.
  }
}

/** Whether any process of the group led by `pid` is still alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The JSON log lines in `logs` (other output, e.g. npm's and turbo's, is skipped). */
function logEntries(logs: string[]): Array<Record<string, unknown>> {
  return logs
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * Resolves once the server has logged `count` incoming requests for `path`: they have reached it,
 * so a signal sent now catches them in flight rather than before they arrived.
 */
export async function requestsReceived(logs: string[], path: string, count: number, timeoutMs = 30_000): Promise<void> {
  const received = () => logEntries(logs).filter((e) => e.msg === "incoming request" && (e.req as { url?: string } | undefined)?.url === path).length;
  const deadline = Date.now() + timeoutMs;
  while (received() < count) {
    if (Date.now() > deadline) throw new Error(`the server received ${received()} of ${count} requests for ${path}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
