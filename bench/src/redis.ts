import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { connect } from "node:net";
import { freePort, stopChild, track } from "./processes.js";
import { sleep } from "./stats.js";

export interface RedisProcess {
  url: string;
  port: number;
  pid: number;
  /** SIGSTOP: the process stays, its connections stay open, nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGCONT (a stopped process would keep SIGTERM pending), then SIGTERM (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** `PING` over a fresh TCP connection; true on `+PONG` within `timeoutMs`. */
function pingRedis(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let answer = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString();
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
    socket.on("error", () => done(false));
  });
}

/**
 * A redis-server of this run's own (REDIS_SERVER_BIN, else `redis-server` on PATH), on 127.0.0.1
 * and a free port, no persistence, files in `dir`. Only this process is ever signalled, by its pid.
 */
export async function startRedis(dir: string): Promise<RedisProcess> {
  mkdirSync(dir, { recursive: true });
  const bin = process.env.REDIS_SERVER_BIN?.trim() || "redis-server";
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = track(
      spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    const logs: string[] = [];
    child.stdout?.on("data", (c: Buffer) => logs.push(c.toString()));
    child.stderr?.on("data", (c: Buffer) => logs.push(c.toString()));
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    let failure: Error | undefined;
    spawnError.then((e) => (failure = e)).catch(() => {});
    const deadline = Date.now() + 10_000;
    while (!failure && child.exitCode === null && Date.now() < deadline) {
      if (await pingRedis(port, 500)) return handle(child, port);
      await sleep(100);
    }
    await stopChild(child, 2_000).catch(() => {});
    const why = failure ? String(failure) : `redis-server did not answer on port ${port} (exit ${child.exitCode}): ${logs.join("").slice(-500)}`;
    if (attempt >= 2 || failure || !/in use/i.test(why)) throw new Error(why);
  }
}

function handle(child: ChildProcess, port: number): RedisProcess {
  const pid = child.pid ?? 0;
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid,
    pause: () => {
      if (alive()) process.kill(pid, "SIGSTOP");
    },
    resume: () => {
      if (alive()) process.kill(pid, "SIGCONT");
    },
    stop: async () => {
      if (alive()) process.kill(pid, "SIGCONT");
      await stopChild(child, 5_000);
    },
  };
}
