import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "@omnilink/domain";
import { pause, useTestServer } from "./helpers.js";
import { listen, registerOverTrpc, useClients, type Client } from "./trpc-client.js";

const server = useTestServer({ limits: { ...DEFAULT_LIMITS, groupSendBurst: 1000, groupSendPerSecond: 1000, groupSendMemberShare: 1 } });
const connect = useClients();

async function user(name: string): Promise<{ uuid: string; client: Client }> {
  const { uuid, token } = await registerOverTrpc(server.url, name);
  return { uuid, client: connect(server.url, token) };
}

describe("the group-chat loop over tRPC (HTTP + WebSocket)", () => {
  it("create → apply → live request → approve → live messages for all → leave → dismiss", async () => {
    const [a, b, c] = await Promise.all([user("alice"), user("bob"), user("carol")]);
    const la = listen(a.client);
    const lb = listen(b.client);
    const lc = listen(c.client);
    await pause();

    const group = await a.client.groups.create.mutate({ name: "loop", memberIds: [b.uuid] });
    await lb.until((items) => items.some((i) => i.kind === "event" && i.event.type === "group.created"));

    // C applies; A (the owner) sees the request live.
    const { applyId } = await c.client.groups.requestJoin.mutate({ groupId: group.uuid, message: "let me in" });
    const [request] = (await la.until((items) => items.some((i) => i.kind === "event" && i.event.type === "request.created"))).flatMap((i) =>
      i.kind === "event" && i.event.type === "request.created" ? [i.event] : [],
    );
    expect(request?.payload).toMatchObject({ applyId, applicantId: c.uuid, kind: "join" });
    // Nobody else in the group hears about a pending request.
    expect(lb.events().some((e) => e.type === "request.created")).toBe(false);
    await expect(c.client.groups.info.query({ groupId: group.uuid })).rejects.toThrow("非群成员");

    await a.client.groups.approve.mutate({ applyId });
    await lc.until((items) => items.some((i) => i.kind === "event" && i.event.type === "member.joined"));
    expect((await a.client.groups.info.query({ groupId: group.uuid })).memberCnt).toBe(3);

    // Messages both ways, live to every member, the sender included.
    await a.client.messages.send.mutate({ receiveId: group.uuid, content: "hello all" });
    await c.client.messages.send.mutate({ receiveId: group.uuid, content: "hi from carol" });
    await b.client.messages.send.mutate({ receiveId: group.uuid, content: "bob here" });
    const three = (l: ReturnType<typeof listen>) => l.until(() => l.messages().length >= 3);
    await Promise.all([three(la), three(lb), three(lc)]);
    const view = (l: ReturnType<typeof listen>) => l.messages().map((m) => [m.uuid, m.seq, m.content, m.createdAt.toISOString()]);
    expect(view(la)).toEqual(view(lb));
    expect(view(lc)).toEqual(view(la));
    expect(la.messages().map((m) => m.seq)).toEqual([1, 2, 3]);
    const history = await c.client.messages.history.query({ peerId: group.uuid });
    expect(history.items.map((m) => m.uuid)).toEqual(la.messages().map((m) => m.uuid));

    // Unread for B: A's and C's messages after B's own send count as read.
    const bSessions = await b.client.sessions.list.query({ kind: "group" });
    expect(bSessions.find((s) => s.peerId === group.uuid)?.unreadCount).toBe(0);
    const aSessions = await a.client.sessions.list.query({ kind: "all" });
    expect(aSessions.find((s) => s.peerId === group.uuid)).toMatchObject({ unreadCount: 2, lastMessage: "bob here" });

    // B leaves: hears its own leave, then nothing more.
    await b.client.groups.leave.mutate({ groupId: group.uuid });
    await lb.until((items) => items.some((i) => i.kind === "event" && i.event.type === "member.left"));
    const bCount = lb.items.length;
    await a.client.messages.send.mutate({ receiveId: group.uuid, content: "after bob left" });
    await lc.until(() => lc.messages().some((m) => m.content === "after bob left"));
    await pause();
    expect(lb.items.length).toBe(bCount);
    await expect(b.client.messages.history.query({ peerId: group.uuid })).rejects.toThrow("非正常群成员状态");
    await expect(b.client.messages.send.mutate({ receiveId: group.uuid, content: "let me back" })).rejects.toThrow("无权发送消息");

    // A dismisses: everyone hears it, nobody can send any more.
    await a.client.groups.dismiss.mutate({ groupId: group.uuid });
    await lc.until((items) => items.some((i) => i.kind === "event" && i.event.type === "group.dismissed"));
    await expect(a.client.messages.send.mutate({ receiveId: group.uuid, content: "x" })).rejects.toThrow("群组状态异常");
    await expect(c.client.messages.send.mutate({ receiveId: group.uuid, content: "x" })).rejects.toThrow("群组状态异常");
    expect((await c.client.sessions.list.query({ kind: "group" })).some((s) => s.peerId === group.uuid)).toBe(false);
    [la, lb, lc].forEach((l) => l.stop());
  });

  it("resume: a subscriber that disconnects and reconnects with its last event id gets exactly the 100 it missed", async () => {
    const [a, b] = await Promise.all([user("sender"), user("reader")]);
    const g1 = await a.client.groups.create.mutate({ name: "one", memberIds: [b.uuid] });
    const g2 = await a.client.groups.create.mutate({ name: "two", memberIds: [b.uuid] });
    const first = listen(b.client);
    await pause();
    await a.client.messages.send.mutate({ receiveId: g1.uuid, content: "seen" });
    await first.until(() => first.messages().length === 1);
    const lastEventId = first.ids.at(-1)!;
    first.stop();
    for (let i = 0; i < 100; i++) {
      await a.client.messages.send.mutate({ receiveId: i % 2 ? g1.uuid : g2.uuid, content: `missed ${i}`, clientMsgId: `m${i}` });
    }
    const resumed = listen(b.client, lastEventId);
    await resumed.until(() => resumed.messages().length >= 100);
    await pause(300);
    const got = resumed.messages();
    expect(got.map((m) => m.content)).toEqual(Array.from({ length: 100 }, (_, i) => `missed ${i}`));
    expect(new Set(got.map((m) => m.uuid)).size).toBe(100);
    // Per-conversation order holds, and ids only grow.
    for (const g of [g1.uuid, g2.uuid]) {
      const seqs = got.filter((m) => m.receiveId === g).map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    expect(resumed.ids.map(Number)).toEqual([...resumed.ids.map(Number)].sort((x, y) => x - y));
    resumed.stop();
  });

  it("refuses a subscription and every procedure without a valid token", async () => {
    const anon = connect(server.url, null);
    await expect(anon.sessions.list.query({ kind: "all" })).rejects.toThrow(/authorization/);
    const l = listen(anon);
    await expect(l.until(() => false, 3000)).rejects.toThrow(/authorization/);
    const forged = connect(server.url, "eyJhbGciOiJIUzI1NiJ9.eyJ1dWlkIjoiVWV2aWwifQ.AAAA");
    await expect(forged.groups.joined.query()).rejects.toThrow(/authorization/);
  });
});
