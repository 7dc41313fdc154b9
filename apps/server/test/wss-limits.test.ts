/**
 * What one user may send over the legacy /wss (a rate per user, a number of frames in progress
 * per connection, private and group frames alike), and the end of a connection whose token
 * expires. Refused frames get the legacy error frame and are not sent; the connection goes on.
 */
import { applyContact, approveApply, createGroup, createTokenService, openSession, register, type DomainContext } from "@omnilink/domain";
import { describe, expect, it } from "vitest";
import { loadConfig, type SocketLimits } from "../src/env.js";
import { pause, startIsolatedServer, type TestServer } from "./helpers.js";
import { handshakeStatus, openLegacySocket, type Frame } from "./wss-client.js";

const JWT = { secret: "wss-limits-test-secret-0123456789ab", issuer: "OmniLink", expireHours: 24 };
const TOO_FAST: Frame = { type: "error", message: "Code: 429, Message: 发送过于频繁，请稍后再试" };

function serverWith(sockets: Partial<SocketLimits>) {
  return startIsolatedServer({ jwt: JWT, sockets: { ...loadConfig({}).sockets, ...sockets }, limits: { ...loadConfig({}).limits, groupSendMemberShare: 1 } });
}

let n = 0;
async function user(domain: DomainContext, name: string) {
  n++;
  const { user, token } = await register(domain, { username: `${name}_${n}_${Date.now() % 100000}`, password: "secret123", nickname: name });
  return { uuid: user.uuid, token };
}

/** Two friends with both sessions open: a can send private frames to b. */
async function friends(server: TestServer) {
  const [a, b] = [await user(server.domain, "pa"), await user(server.domain, "pb")];
  const { applyId } = await applyContact(server.domain, a.uuid, { contactId: b.uuid, message: "" });
  await approveApply(server.domain, b.uuid, applyId);
  const { sessionId } = await openSession(server.domain, a.uuid, b.uuid);
  await openSession(server.domain, b.uuid, a.uuid);
  return { a, b, sessionId };
}

const errors = (frames: Frame[]) => frames.filter((f) => f.type === "error");

describe("legacy /wss: frames per user", () => {
  it("a burst within the rate is sent; the frames past it get 429 error frames and are not sent (group and private)", async () => {
    await using server = await serverWith({ legacyFrameBurst: 5, legacyFramesPerSecond: 0.001 });
    // Group frames.
    const [owner, member] = [await user(server.domain, "own"), await user(server.domain, "mem")];
    const g = await createGroup(server.domain, owner.uuid, { name: "rate", memberIds: [member.uuid] });
    const so = await openLegacySocket(server.url, owner.uuid, owner.token);
    const sm = await openLegacySocket(server.url, member.uuid, member.token);
    for (let i = 0; i < 7; i++) so.send({ type: 0, content: `g${i}`, receive_id: g.uuid });
    await so.until((f) => so.messages().length === 5 && errors(f).length === 2);
    await sm.until(() => sm.messages().length === 5);
    await pause(300);
    expect(sm.messages().map((m) => m.content)).toEqual(["g0", "g1", "g2", "g3", "g4"]);
    expect(errors(so.frames)).toEqual([TOO_FAST, TOO_FAST]);
    // The connection is still open; the member's own budget is untouched by the owner's.
    sm.send({ type: 0, content: "from the member", receive_id: g.uuid });
    await so.until(() => so.messages().some((m) => m.content === "from the member"));

    // Private frames, a second connection of the same user: the budget is the user's, not the connection's.
    const { a, b, sessionId } = await friends(server);
    const sa1 = await openLegacySocket(server.url, a.uuid, a.token);
    const sa2 = await openLegacySocket(server.url, a.uuid, a.token);
    const sb = await openLegacySocket(server.url, b.uuid, b.token);
    for (let i = 0; i < 4; i++) sa1.send({ session_id: sessionId, type: 0, content: `p${i}`, receive_id: b.uuid });
    for (let i = 4; i < 7; i++) sa2.send({ session_id: sessionId, type: 0, content: `p${i}`, receive_id: b.uuid });
    await sb.until(() => sb.messages().length === 5);
    await sa2.until((f) => errors(f).length === 2);
    await pause(300);
    expect(sb.messages().map((m) => m.content)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    // Refusals go to the connection that sent the frame only.
    expect({ first: errors(sa1.frames), second: errors(sa2.frames) }).toEqual({ first: [], second: [TOO_FAST, TOO_FAST] });
    for (const s of [so, sm, sa1, sa2, sb]) s.close();
  });
});

describe("legacy /wss: frames in progress per connection", () => {
  it("frames within the bound are all sent; a flood of private frames is refused past it, answered at once, and nothing crashes", async () => {
    const MAX_PENDING = 4;
    await using server = await serverWith({ legacyFrameBurst: 1_000_000, legacyFramesPerSecond: 1_000_000, legacyMaxPendingFrames: MAX_PENDING });
    const { a, b, sessionId } = await friends(server);
    const sa = await openLegacySocket(server.url, a.uuid, a.token);
    const sb = await openLegacySocket(server.url, b.uuid, b.token);
    // Under the bound: all sent, no refusal.
    for (let i = 0; i < MAX_PENDING; i++) sa.send({ session_id: sessionId, type: 0, content: `small ${i}`, receive_id: b.uuid });
    await sb.until(() => sb.messages().length === MAX_PENDING);
    expect(errors(sa.frames)).toEqual([]);

    // 400 frames in one go (2 KB each, so that many arrive in one read even when the database
    // answers as fast as the socket reads): at most MAX_PENDING are ever in progress.
    const FLOOD = 400;
    const big = "x".repeat(2 * 1024);
    const started = Date.now();
    for (let i = 0; i < FLOOD; i++) sa.send({ session_id: sessionId, type: 0, content: `${i} ${big}`, receive_id: b.uuid });
    await sa.until((f) => f.filter((x) => typeof x.type === "number").length + errors(f).length === MAX_PENDING + FLOOD, 20_000);
    const answeredMs = Date.now() - started;
    await pause(300);
    const sent = sa.messages().length - MAX_PENDING;
    const refused = errors(sa.frames);
    expect(refused.every((f) => f.message === TOO_FAST.message)).toBe(true);
    expect(sent).toBeGreaterThanOrEqual(MAX_PENDING);
    expect(refused.length).toBeGreaterThan(FLOOD / 2);
    expect(sent + refused.length).toBe(FLOOD);
    // What was refused was not sent: the receiver has exactly the sender's echoes.
    await sb.until(() => sb.messages().length === MAX_PENDING + sent);
    expect(sb.messages().map((m) => m.uuid)).toEqual(sa.messages().map((m) => m.uuid));
    expect(answeredMs).toBeLessThan(10_000);
    // The connection still works.
    sa.send({ session_id: sessionId, type: 0, content: "after the flood", receive_id: b.uuid });
    await sb.until(() => sb.messages().some((m) => m.content === "after the flood"));
    sa.close();
    sb.close();
  });
});

describe("legacy /wss: token expiry", () => {
  it("ends a connection when its token expires (error frame, close 1008), then refuses that token at the handshake; a longer token stays", async () => {
    await using server = await serverWith({});
    const [a, b] = [await user(server.domain, "short"), await user(server.domain, "long")];
    const g = await createGroup(server.domain, a.uuid, { name: "expiry", memberIds: [b.uuid] });
    const shortToken = await createTokenService({ ...JWT, expireHours: 3 / 3600 }).sign({ uuid: a.uuid, username: "short" });
    const sa = await openLegacySocket(server.url, a.uuid, shortToken);
    const sb = await openLegacySocket(server.url, b.uuid, b.token);
    const closed = new Promise<number>((resolve) => sa.ws.once("close", (code) => resolve(code)));
    sb.send({ type: 0, content: "before", receive_id: g.uuid });
    await sa.until(() => sa.messages().length === 1);

    expect(await closed).toBe(1008);
    expect(errors(sa.frames)).toEqual([{ type: "error", message: "Code: 401, Message: token expired" }]);
    expect(await handshakeStatus(`${server.url.replace(/^http/, "ws")}/wss?client_id=${a.uuid}&token=${shortToken}`)).toBe(401);
    sb.send({ type: 0, content: "after", receive_id: g.uuid });
    await sb.until(() => sb.messages().length === 2);
    expect(sb.ws.readyState).toBe(sb.ws.OPEN);
    expect(sa.messages().map((m) => m.content)).toEqual(["before"]);
    sb.close();
  });
});
