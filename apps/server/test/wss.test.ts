import { DEFAULT_LIMITS, createGroup, openSession, register, setMemberMuted, removeMembers, applyContact, approveApply, type DomainContext } from "@omnilink/domain";
import { describe, expect, it } from "vitest";
import { anyString, matching, pause, startIsolatedServer, useTestServer } from "./helpers.js";
import { handshakeStatus, openLegacySocket } from "./wss-client.js";

const server = useTestServer();

let n = 0;
/** A fresh user made straight in the domain (the HTTP routes are someone else's). */
async function user(name: string, domain: DomainContext = server.domain) {
  n++;
  const { user, token } = await register(domain, { username: `${name}_${n}_${Date.now() % 100000}`, password: "secret123", nickname: name });
  return { uuid: user.uuid, token };
}

describe("legacy /wss handshake", () => {
  it("needs client_id (400) and a valid token for that client (401), then upgrades", async () => {
    const a = await user("hs");
    const b = await user("other");
    const base = `${server.url.replace(/^http/, "ws")}/wss`;
    expect(await handshakeStatus(`${base}?token=${a.token}`)).toBe(400);
    expect(await handshakeStatus(`${base}?client_id=${a.uuid}`)).toBe(401);
    expect(await handshakeStatus(`${base}?client_id=${a.uuid}&token=not.a.jwt`)).toBe(401);
    expect(await handshakeStatus(`${base}?client_id=${a.uuid}&token=${b.token}`)).toBe(401);
    expect(await handshakeStatus(`${base}?client_id=${a.uuid}&token=${a.token}`)).toBe(101);
  });
});

describe("legacy /wss messaging", () => {
  it("group messages reach every member and every connection of the sender, with the legacy item keys", async () => {
    const [a, b, c] = [await user("ga"), await user("gb"), await user("gc")];
    const g = await createGroup(server.domain, a.uuid, { name: "wss group", memberIds: [b.uuid, c.uuid] });
    const a1 = await openLegacySocket(server.url, a.uuid, a.token);
    const a2 = await openLegacySocket(server.url, a.uuid, a.token);
    const sb = await openLegacySocket(server.url, b.uuid, b.token);
    const sc = await openLegacySocket(server.url, c.uuid, c.token);
    await pause();
    a1.send({ session_id: "", type: 0, content: "hello group", url: "", send_id: a.uuid, send_name: "x", send_avatar: "", receive_id: g.uuid, file_name: "", file_size: "", file_type: "" });
    for (const s of [a1, a2, sb, sc]) await s.until(() => s.messages().length === 1);
    const item = sb.messages()[0]!;
    expect(item).toEqual({
      uuid: matching(/^M[0-9A-Za-z]{11}$/),
      send_id: a.uuid,
      send_name: "ga",
      send_avatar: anyString,
      receive_id: g.uuid,
      type: 0,
      content: "hello group",
      created_at: matching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/),
      seq: 1,
    });
    expect(a2.messages()[0]).toEqual(item);
    expect(sc.messages()[0]).toEqual(item);
    // A file message from another member, both ways.
    sc.send({ type: 2, receive_id: g.uuid, url: "/static/files/x.pdf", file_name: "report.pdf", file_size: "12.50KB", file_type: "application/pdf" });
    await a1.until(() => a1.messages().length === 2);
    expect(a1.messages()[1]).toMatchObject({ type: 2, url: "/static/files/x.pdf", file_type: "application/pdf", file_name: "report.pdf" });
    expect(a1.messages()[1]).not.toHaveProperty("content");
    // A burst of frames from one connection keeps its order, without waiting for each send.
    for (let i = 0; i < 40; i++) a2.send({ type: 0, content: `burst ${i}`, receive_id: g.uuid });
    await sb.until(() => sb.messages().length === 42);
    expect(sb.messages().slice(2).map((m) => m.content)).toEqual(Array.from({ length: 40 }, (_, i) => `burst ${i}`));
    expect(sb.messages().map((m) => m.seq)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    for (const s of [a1, a2, sb, sc]) s.close();
  });

  it("private messages: sender copy to all sender connections, receiver copy with the receiver's session id", async () => {
    const [a, b] = [await user("pa"), await user("pb")];
    const { applyId } = await applyContact(server.domain, a.uuid, { contactId: b.uuid, message: "" });
    await approveApply(server.domain, b.uuid, applyId);
    const aSession = await openSession(server.domain, a.uuid, b.uuid);
    const bSession = await openSession(server.domain, b.uuid, a.uuid);
    const a1 = await openLegacySocket(server.url, a.uuid, a.token);
    const a2 = await openLegacySocket(server.url, a.uuid, a.token);
    const sb = await openLegacySocket(server.url, b.uuid, b.token);
    await pause();
    a1.send({ session_id: aSession.sessionId, type: 0, content: "hi b", receive_id: b.uuid });
    for (const s of [a1, a2, sb]) await s.until(() => s.messages().length === 1);
    expect(a1.messages()[0]).toMatchObject({ session_id: aSession.sessionId, send_id: a.uuid, receive_id: b.uuid, content: "hi b" });
    expect(a2.messages()[0]).toEqual(a1.messages()[0]);
    expect(sb.messages()[0]).toMatchObject({ session_id: bSession.sessionId, uuid: a1.messages()[0]!.uuid });
    // A wrong session id is refused with the legacy error frame, to every sender connection.
    a1.send({ session_id: "Swrong000000", type: 0, content: "x", receive_id: b.uuid });
    for (const s of [a1, a2]) await s.until((f) => f.some((x) => x.type === "error"));
    expect(a2.frames.find((f) => f.type === "error")).toEqual({ type: "error", message: "Code: 400, Message: session_id 不匹配" });
    for (const s of [a1, a2, sb]) s.close();
  });

  it("refusals: error frames with no id fields; a muted member receives but cannot send; a removed member gets nothing more", async () => {
    const [owner, muted, removed, stranger] = [await user("own"), await user("mut"), await user("rem"), await user("str")];
    const g = await createGroup(server.domain, owner.uuid, { name: "rules", memberIds: [muted.uuid, removed.uuid] });
    await setMemberMuted(server.domain, owner.uuid, { groupId: g.uuid, userId: muted.uuid, muted: true });
    const so = await openLegacySocket(server.url, owner.uuid, owner.token);
    const sm = await openLegacySocket(server.url, muted.uuid, muted.token);
    const sr = await openLegacySocket(server.url, removed.uuid, removed.token);
    const ss = await openLegacySocket(server.url, stranger.uuid, stranger.token);
    await pause();
    ss.send({ type: 0, content: "let me in", receive_id: g.uuid });
    await ss.until((f) => f.length > 0);
    expect(ss.frames).toEqual([{ type: "error", message: "Code: 403, Message: 非群成员，无法发送消息" }]);
    sm.send({ type: 0, content: "I am muted", receive_id: g.uuid });
    await sm.until((f) => f.some((x) => x.type === "error"));
    expect(sm.frames.find((x) => x.type === "error")).toEqual({ type: "error", message: "Code: 403, Message: 无权发送消息" });

    so.send({ type: 0, content: "before removal", receive_id: g.uuid });
    await sr.until(() => sr.messages().length === 1);
    await sm.until(() => sm.messages().length === 1); // muted still receives
    await removeMembers(server.domain, owner.uuid, { groupId: g.uuid, memberIds: [removed.uuid] });
    await sr.until((f) => f.some((x) => x.type === "member.removed"));
    const removalFrame = sr.frames.find((x) => x.type === "member.removed")!;
    expect(removalFrame).not.toHaveProperty("send_id");
    expect(removalFrame).not.toHaveProperty("receive_id");
    const before = sr.frames.length;
    so.send({ type: 0, content: "after removal", receive_id: g.uuid });
    await sm.until(() => sm.messages().length === 2);
    await pause();
    expect(sr.frames.length).toBe(before);
    sr.send({ type: 0, content: "still here?", receive_id: g.uuid });
    await sr.until((f) => f.some((x) => x.type === "error"));
    for (const s of [so, sm, sr, ss]) s.close();
  });

  it("pushes contact.apply to the group owner when someone asks to join", async () => {
    const [owner, applicant] = [await user("jo"), await user("ja")];
    const g = await createGroup(server.domain, owner.uuid, { name: "join me", memberIds: [] });
    const so = await openLegacySocket(server.url, owner.uuid, owner.token);
    await pause();
    const { applyId } = await applyContact(server.domain, applicant.uuid, { contactId: g.uuid, message: "" });
    await so.until((f) => f.some((x) => x.type === "contact.apply"));
    expect(so.frames.find((x) => x.type === "contact.apply")).toEqual({
      type: "contact.apply",
      apply_id: applyId,
      from_user_id: applicant.uuid,
      created_at: anyString,
    });
    so.close();
  });

  it("closes the connection on a frame that does not decode", async () => {
    const a = await user("bad");
    const s = await openLegacySocket(server.url, a.uuid, a.token);
    const closed = new Promise<number>((resolve) => s.ws.once("close", (code) => resolve(code)));
    s.send({ type: "x", receive_id: 5 });
    expect(await closed).toBe(1003);
  });
});

describe("legacy /wss liveness (legacy-contract D3)", () => {
  it("pings; a peer that answers stays connected past many intervals, one that stops answering is dropped", async () => {
    await using fast = await startIsolatedServer({ wsPingMs: 100 });
    const { user, token } = await register(fast.domain, { username: "pinger", password: "secret123", nickname: "p" });
    const { default: WebSocket } = await import("ws");
    const url = `${fast.url.replace(/^http/, "ws")}/wss?client_id=${user.uuid}&token=${token}`;
    const healthy = new WebSocket(url);
    const silent = new WebSocket(url, { autoPong: false });
    let pings = 0;
    healthy.on("ping", () => pings++);
    const silentClosed = new Promise<void>((resolve) => silent.once("close", () => resolve()));
    await Promise.all([healthy, silent].map((ws) => new Promise((r) => ws.once("open", r))));
    await silentClosed;
    await pause(600);
    expect(pings).toBeGreaterThanOrEqual(4);
    expect(healthy.readyState).toBe(WebSocket.OPEN);
    healthy.close();
  });
});

describe("slow readers", () => {
  it("closes a socket that stops reading once its unsent data passes the cap, and the others keep going", { timeout: 90_000 }, async () => {
    // The group's send budget is not under test: the owner sends as fast as the server takes it.
    await using capped = await startIsolatedServer({
      maxSocketBufferBytes: 2 * 1024 * 1024,
      limits: { ...DEFAULT_LIMITS, groupSendBurst: 1000, groupSendPerSecond: 1000, groupSendMemberShare: 1 },
    });
    const d = capped.domain;
    const [owner, slow, fast] = [await user("owner", d), await user("slow", d), await user("fast", d)];
    const g = await createGroup(d, owner.uuid, { name: "firehose", memberIds: [slow.uuid, fast.uuid] });
    const sSlow = await openLegacySocket(capped.url, slow.uuid, slow.token);
    const sFast = await openLegacySocket(capped.url, fast.uuid, fast.token);
    await pause();
    // Stop reading: the kernel buffers fill, then the server's send buffer grows. (A paused client
    // does not see the close either, so the server's side is what we watch.)
    (sSlow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const { sendMessage, sendMessageInput } = await import("@omnilink/domain");
    const big = "x".repeat(60_000);
    expect(d.dispatcher.subscriberCount).toBe(2);
    let sent = 0;
    while (d.dispatcher.subscriberCount === 2 && sent < 600) {
      await sendMessage(d, owner.uuid, sendMessageInput.parse({ receiveId: g.uuid, content: big }));
      sent++;
      // Let sockets and timers run between sends, as they do between real requests.
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(d.dispatcher.subscriberCount).toBe(1);
    await sFast.until(() => sFast.messages().length === sent, 20_000);
    sFast.close();
  });
});
