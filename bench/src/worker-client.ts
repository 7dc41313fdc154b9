import { spawn } from "node:child_process";
import { join } from "node:path";
import { benchSrc, repoRoot, stopChild, track } from "./processes.js";
import type { WorkerCommand, WorkerMessage, WorkerReply, WorkerRequests } from "./worker-protocol.js";

export interface ClientWorker {
  pid: number;
  call<C extends WorkerCommand>(cmd: C, args: WorkerRequests[C]["args"], timeoutMs?: number): Promise<WorkerRequests[C]["result"]>;
  stop(): Promise<void>;
}

/** Starts a client worker process (worker.ts) and talks to it over IPC. */
export function startWorker(): ClientWorker {
  const child = track(
    spawn(process.execPath, ["--import", "tsx", join(benchSrc, "worker.ts")], {
      cwd: repoRoot,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on("message", (reply: WorkerReply) => {
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if (reply.ok) w.resolve(reply.result);
    else w.reject(new Error(`worker: ${reply.error}`));
  });
  child.once("exit", (code) => {
    for (const w of waiting.values()) w.reject(new Error(`worker exited (${code})`));
    waiting.clear();
  });
  return {
    pid: child.pid ?? 0,
    call(cmd, args, timeoutMs = 120_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`worker ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as never);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, cmd, args } satisfies WorkerMessage);
      });
    },
    stop: () => stopChild(child, 5_000),
  };
}
