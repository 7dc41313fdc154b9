import { execFile } from "node:child_process";
import { once } from "node:events";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { matching, pause, postJson, tempDir } from "./helpers.js";
import { groupAlive, kill, launch, repoRoot, requestsReceived } from "./process-helpers.js";
import { openLegacySocket } from "./wss-client.js";

/**
 * The environment of a shell at the repository root: whatever npm or turbo run this test is
 * part of leaves nothing behind, nor does the database this test run may be set to use.
 */
function shellEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", TURBO_TELEMETRY_DISABLED: "1" };
  for (const key of Object.keys(env)) if (key.startsWith("npm_") || key === "INIT_CWD") delete env[key];
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  return env;
}

/** A bare WebSocket on the tRPC endpoint: records its frames and how it was closed. */
async function openTrpcSocket(url: string) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/trpc`);
  const frames: string[] = [];
  ws.on("message", (data: Buffer) => frames.push(data.toString()));
  const closed = once(ws, "close") as Promise<[number, Buffer]>;
  await once(ws, "open");
  return { frames, closed };
}

/**
 * The README's production start, `npm start` from the repository root, as a process manager runs
 * it: in a process group of its own, stopped by SIGTERM to the whole group (npm and the server).
 * On the embedded database in a fresh data folder, like a first start on a new machine.
 */
describe("npm start (production)", () => {
  beforeAll(async () => {
    // The first build of the console and the server may be slow on a busy machine; the start
    // below is then measured against turbo's cache, as every start after the first one is.
    await promisify(execFile)("npm", ["run", "build"], { cwd: repoRoot, env: shellEnv(), timeout: 280_000 });
  }, 300_000);

  it("serves from the cached build, and SIGTERM to its process group drains everything and exits 0", async () => {
    using dir = tempDir();
    // Room for a slow shared machine in the shutdown budget: the test is about draining, not about the default.
    const env = { ...shellEnv(), PORT: "0", HOST: "127.0.0.1", DATA_DIR: dir.path, LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_MS: "40000" };
    const server = await launch("npm", ["start"], { cwd: repoRoot, env, detached: true, timeoutMs: 150_000 });
    const { child, url, logs } = server;
    const pid = child.pid!;
    try {
      const output = () => logs.join("");
      // Nothing was rebuilt: turbo restored every build (the console's, the server's) from its cache.
      expect(output()).toMatch(/Cached:\s+(\d+) cached, \1 total/);
      expect(output()).toContain("FULL TURBO");
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // npm runs the server itself, plain node on the compiled bundle: no shell and no tsx between
      // them that could die of the signal (or relay it as SIGKILL).
      const group = (await promisify(execFile)("ps", ["-o", "args=", "-g", String(pid)])).stdout.trim().split("\n");
      expect(group).toHaveLength(2);
      expect(group[1]).toMatch(/^node --enable-source-maps apps\/server\/dist\/main\.js$/);
      const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;

      const users = await Promise.all(
        ["s1", "s2", "s3"].map(async (name) => {
          const res = await postJson(url, "/register", { username: `start_${name}_${Date.now() % 100000}`, password: "secret123", nickname: name });
          expect(res.json.code).toBe(200);
          return res.json.data as { uuid: string; token: string };
        }),
      );
      const legacy = await Promise.all(users.map((u) => openLegacySocket(url, u.uuid, u.token)));
      const legacyClosed = legacy.map((s) => once(s.ws, "close") as Promise<[number, Buffer]>);
      const trpc = await openTrpcSocket(url);

      // A stream of registrations, each hashing a password for hundreds of milliseconds: once the
      // server has received them all, several are still being worked on when the signal lands.
      const inFlight = Array.from({ length: 8 }, (_, i) =>
        postJson(url, "/register", { username: `inflight_${i}_${Date.now() % 100000}`, password: "secret123", nickname: `F${i}` }).then((res) => ({ ...res, at: Date.now() })),
      );
      await requestsReceived(logs, "/register", users.length + inFlight.length);
      const signalledAt = Date.now();
      process.kill(-pid, "SIGTERM");

      const responses = await Promise.all(inFlight);
      for (const response of responses) {
        expect(response.status).toBe(200);
        expect(response.json).toMatchObject({ code: 200, data: { nickname: matching(/^F\d$/) } });
      }
      // The signal really caught requests in flight.
      expect(responses.filter((r) => r.at > signalledAt).length).toBeGreaterThan(0);

      // Clients are told to come back: 1012 (service restart), not 1006 (connection lost).
      for (const closed of legacyClosed) {
        const [code, reason] = await closed;
        expect(code).toBe(1012);
        expect(reason.toString()).toBe("server restarting");
      }
      const [trpcCode] = await trpc.closed;
      expect(trpcCode).toBe(1012);
      expect(trpc.frames.map((f) => JSON.parse(f) as unknown)).toContainEqual({ id: null, method: "reconnect" });

      // npm waits for the server and reports its clean exit; nothing of the group is left.
      // Exit code 0 also says the server finished within its shutdown budget (it exits 1 past it).
      const [code, signal] = await Promise.race([exited, pause(45_000).then(() => [undefined, undefined] as const)]);
      expect({ code, signal }, output()).toEqual({ code: 0, signal: null });
      expect(groupAlive(pid)).toBe(false);
      expect(output()).toContain("shutting down");
      expect(output()).toContain('"msg":"stopped"');
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      if (groupAlive(pid)) kill(child, "SIGKILL", true);
    }
  }, 240_000);
});
