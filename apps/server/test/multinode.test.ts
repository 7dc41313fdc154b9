import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pause, tempDir, testDatabase } from "./helpers.js";
import { spawnServer } from "./process-helpers.js";
import type { EphemeralEvent } from "@omnilink/domain";
import { connect as connectTrpc, listen, registerOverTrpc, useClients, type Client } from "./trpc-client.js";
import { openLegacySocket } from "./wss-client.js";

/**
 * Two real server processes sharing one PostgreSQL database and one Redis, each with a data folder
 * of its own and no JWT_SECRET (a token signed by one node is valid on the other because the
 * generated secret lives in the database): what a member on one node sends reaches members on the
 * other, live; a subscriber can move between nodes without
 * losing or repeating anything; membership changes apply everywhere at once.
 */
const nodes: Array<{ child: ChildProcess; url: string }> = [];
const dirs: Array<ReturnType<typeof tempDir>> = [];
let database: Awaited<ReturnType<typeof testDatabase>>;

beforeAll(async () => {
  database = await testDatabase();
  const channel = `omnilink:test:${Date.now()}:${Math.random().toString(36).slice(2)}`;
  for (let i = 0; i < 2; i++) {
    const dir = tempDir();
    dirs.push(dir);
    const { child, url } = await spawnServer({
      DATABASE_URL: database.url ?? "",
      REDIS_URL: process.env.REDIS_URL ?? "",
      REDIS_CHANNEL: channel,
      DATA_DIR: dir.path,
      GROUP_SEND_BURST: "1000",
      // No database polling during the test: everything that crosses nodes must come through Redis.
      STREAM_POLL_MS: "600000",
      PRESENCE_OFFLINE_GRACE_MS: "100",
    });
    nodes.push({ child, url });
  }
});

afterAll(async () => {
  for (const { child } of nodes) {
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }
  await database[Symbol.asyncDispose]();
  dirs.forEach((d) => d[Symbol.dispose]());
});

// Registered after the nodes' afterAll, so the clients close before the nodes stop.
const connect = useClients();

async function user(node: number, name: string): Promise<{ uuid: string; token: string; on: (node: number) => Client }> {
  const { uuid, token } = await registerOverTrpc(nodes[node]!.url, name);
  return { uuid, token, on: (n: number) => connect(nodes[n]!.url, token) };
}

describe("two nodes, one PostgreSQL, one Redis", () => {
  it("fans out across nodes (tRPC and legacy /wss), resumes across nodes, applies removals everywhere at once", async () => {
    const [a, b, c] = [await user(0, "alice"), await user(1, "bob"), await user(0, "carol")];
    const group = await a.on(0).groups.create.mutate({ name: "two nodes", memberIds: [b.uuid, c.uuid] });

    // B listens on node 0 (tRPC and legacy); A sends through node 1.
    const bLive = listen(b.on(0));
    const bLegacy = await openLegacySocket(nodes[0]!.url, b.uuid, b.token);
    const cLive = listen(c.on(1));
    await pause(300);
    const aOn1 = a.on(1);
    await aOn1.messages.send.mutate({ receiveId: group.uuid, content: "from node 1" });
    await bLive.until(() => bLive.messages().some((m) => m.content === "from node 1"));
    await bLegacy.until(() => bLegacy.messages().some((m) => m.content === "from node 1"));

    // B drops from node 0, messages keep coming through node 1, B comes back on node 1.
    const lastEventId = bLive.ids.at(-1)!;
    bLive.stop();
    for (let i = 0; i < 30; i++) await aOn1.messages.send.mutate({ receiveId: group.uuid, content: `gap ${i}` });
    const bBack = listen(b.on(1), lastEventId);
    await bBack.until(() => bBack.messages().length >= 30);
    await pause(300);
    expect(bBack.messages().map((m) => m.content)).toEqual(Array.from({ length: 30 }, (_, i) => `gap ${i}`));

    // A removes C through node 0; C, listening on node 1, hears the removal and nothing after.
    await a.on(0).groups.removeMembers.mutate({ groupId: group.uuid, memberIds: [c.uuid] });
    await cLive.until((items) => items.some((i) => i.kind === "event" && i.event.type === "member.removed"));
    const cCount = cLive.items.length;
    await a.on(0).messages.send.mutate({ receiveId: group.uuid, content: "after removal" });
    await bBack.until(() => bBack.messages().some((m) => m.content === "after removal"));
    await pause(300);
    expect(cLive.items.length).toBe(cCount);
    bBack.stop();
    cLive.stop();
    bLegacy.close();
  });

  it("carries typing and presence across nodes: live.signals, groups.presence (Redis store), tRPC and legacy connections", async () => {
    const [a, b, c, s] = [await user(0, "ty_a"), await user(1, "ty_b"), await user(0, "ty_c"), await user(1, "ty_s")];
    const group = await a.on(0).groups.create.mutate({ name: "typing", memberIds: [b.uuid, c.uuid] });
    const groupId = group.uuid;
    // A hears signals on node 0; B (own socket, closed below) and the stranger on node 1; C only on legacy /wss, node 0.
    const heard = (client: Client) => {
      const events: EphemeralEvent[] = [];
      const sub = client.live.signals.subscribe(undefined, { onData: (e) => events.push(e) });
      return { events, stop: () => sub.unsubscribe() };
    };
    const aHears = heard(a.on(0));
    const bSocket = connectTrpc(nodes[1]!.url, b.token);
    const bHears = heard(bSocket.client);
    const sHears = heard(s.on(1));
    const cLegacy = await openLegacySocket(nodes[0]!.url, c.uuid, c.token);
    await pause(500);

    expect(await a.on(1).groups.presence.query({ groupId })).toEqual({ online: [a.uuid, b.uuid, c.uuid] });
    await a.on(0).live.typing.mutate({ peerId: groupId, typing: true });
    const deadline = Date.now() + 5000;
    while (!bHears.events.some((e) => e.kind === "typing") && Date.now() < deadline) await pause(20);
    expect(bHears.events.filter((e) => e.kind === "typing")).toEqual([{ kind: "typing", groupId, userId: a.uuid, typing: true, ttlMs: 6000 }]);
    expect(await trpcCodeOf(s.on(1).live.typing.mutate({ peerId: groupId, typing: true }))).toBe("FORBIDDEN");

    // B's only connection closes: offline everywhere after the grace period, and A is told.
    bHears.stop();
    await bSocket.close();
    while (!aHears.events.some((e) => e.kind === "presence" && e.userId === b.uuid && !e.online) && Date.now() < deadline + 5000) await pause(20);
    expect(aHears.events.filter((e) => e.kind === "presence" && e.userId === b.uuid).at(-1)).toEqual({ kind: "presence", userId: b.uuid, online: false });
    expect(await c.on(0).groups.presence.query({ groupId })).toEqual({ online: [a.uuid, c.uuid] });
    await pause(300);
    expect(sHears.events).toEqual([]);
    aHears.stop();
    sHears.stop();
    cLegacy.close();
  });

  it("read receipts cross nodes through Redis: the sender on node 0 hears reads made on node 1", async () => {
    const [a, b] = [await user(0, "rcpt_a"), await user(1, "rcpt_b")];
    const group = await a.on(0).groups.create.mutate({ name: "receipts", memberIds: [b.uuid] });
    const aClient = a.on(0);
    const aLive = listen(aClient);
    const updates: Array<{ conversationId: string; peerId: string; fromSeq: number; upToSeq: number }> = [];
    const sub = aClient.live.signals.subscribe(undefined, { onData: (u) => (u.kind === "receipt" ? updates.push(u) : undefined) });
    await pause(300);
    const { message } = await aClient.messages.send.mutate({ receiveId: group.uuid, content: "read me" });
    expect((await aClient.messages.receipts.query({ messageId: message.uuid })).readCount).toBe(0);
    await b.on(1).sessions.markRead.mutate({ peerId: group.uuid });
    const deadline = Date.now() + 10_000;
    while (!updates.some((u) => u.conversationId === group.uuid) && Date.now() < deadline) await pause(20);
    expect(updates.find((u) => u.conversationId === group.uuid)).toMatchObject({ peerId: group.uuid, upToSeq: message.seq });
    const receipts = await aClient.messages.receipts.query({ messageId: message.uuid });
    expect([receipts.readCount, receipts.readers.map((r) => r.userId)]).toEqual([1, [b.uuid]]);
    sub.unsubscribe();
    aLive.stop();
  });
});

async function trpcCodeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e as { data?: { code?: string } }).data?.code,
  );
}
