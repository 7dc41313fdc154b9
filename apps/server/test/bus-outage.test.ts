import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../src/app.js";
import { pause, startTestServer, tempDir, testDatabase } from "./helpers.js";
import { listen, registerOverTrpc, useClients } from "./trpc-client.js";

/**
 * Two nodes on one PostgreSQL database and a Redis of this test's own, which the test freezes
 * (SIGSTOP: connections stay open, nothing answers, the worst case for a client). Sends must still
 * be acknowledged, nothing may be lost or repeated, and live delivery between the nodes must come
 * back by itself when Redis does. Needs a shared database: runs when DATABASE_URL is set.
 */
const shared = Boolean(process.env.DATABASE_URL);

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

let redis: ChildProcess | undefined;
let database: Awaited<ReturnType<typeof testDatabase>> | undefined;
const nodes: RunningServer[] = [];
const dirs: Array<ReturnType<typeof tempDir>> = [];

beforeAll(async () => {
  if (!shared) return;
  const port = await freePort();
  const dir = tempDir();
  dirs.push(dir);
  redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.path], { stdio: "ignore" });
  await pause(300);
  database = await testDatabase();
  const channel = `omnilink:outage:${Date.now()}:${Math.random().toString(36).slice(2)}`;
  for (let i = 0; i < 2; i++) {
    const nodeDir = tempDir();
    dirs.push(nodeDir);
    nodes.push(
      await startTestServer(nodeDir.path, database.url, {
        redisUrl: `redis://127.0.0.1:${port}`,
        redisChannel: channel,
        jwt: { secret: "bus-outage-test-secret-0123456789", issuer: "OmniLink", expireHours: 1 },
        // No database poll: between the nodes, only the bus (and the gap fill it triggers) delivers.
        streamPollMs: 600_000,
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  redis?.kill("SIGCONT");
  for (const node of nodes) await node.close();
  if (redis && redis.exitCode === null) {
    const exited = once(redis, "exit");
    redis.kill("SIGTERM");
    await exited;
  }
  await database?.[Symbol.asyncDispose]();
  dirs.forEach((d) => d[Symbol.dispose]());
});

const connect = useClients();

describe.runIf(shared)("the bus between nodes is down", () => {
  it("sends are still acknowledged; nothing is lost or repeated; live delivery resumes by itself", { timeout: 60_000 }, async () => {
    const [n1, n2] = [nodes[0]!, nodes[1]!];
    const a = await registerOverTrpc(n1.url, "sender");
    const b = await registerOverTrpc(n2.url, "reader");
    const aOn1 = connect(n1.url, a.token);
    const group = await aOn1.groups.create.mutate({ name: "outage", memberIds: [b.uuid] });
    const bLive = listen(connect(n2.url, b.token));
    await pause(300);
    await aOn1.messages.send.mutate({ receiveId: group.uuid, content: "before" });
    await bLive.until(() => bLive.messages().length === 1);

    redis!.kill("SIGSTOP");
    const dropped0 = n1.domain.bus.stats?.().dropped ?? 0;
    // Each send is acknowledged although Redis answers nothing (an awaited publish would hang here).
    for (let i = 0; i < 20; i++) await aOn1.messages.send.mutate({ receiveId: group.uuid, content: `during ${i}` });
    // Node 1 gives up on the publications it could not send.
    await pause(1500);
    expect(n1.domain.bus.stats?.().dropped ?? 0).toBeGreaterThan(dropped0);
    redis!.kill("SIGCONT");
    await pause(500);

    // The next publication reaches node 2, which fills the gap from the database.
    await aOn1.messages.send.mutate({ receiveId: group.uuid, content: "after" });
    await bLive.until(() => bLive.messages().some((m) => m.content === "after"), 15_000);
    await pause(300);
    expect(bLive.messages().map((m) => m.content)).toEqual(["before", ...Array.from({ length: 20 }, (_, i) => `during ${i}`), "after"]);
    expect(new Set(bLive.ids).size).toBe(bLive.ids.length);
  });
});
