/**
 * What one tRPC WebSocket may hold: a bounded number of live subscriptions, a deadline to show a
 * valid token, and subscriptions that end with UNAUTHORIZED when that token expires.
 */
import { createGroup, createTokenService, register, sendMessage, sendMessageInput, type DomainContext } from "@omnilink/domain";
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { loadConfig } from "../src/env.js";
import { pause, useTestServer } from "./helpers.js";
import { connect, type Client } from "./trpc-client.js";

const JWT = { secret: "socket-limits-test-secret-0123456789", issuer: "OmniLink", expireHours: 24 };
const AUTH_TIMEOUT_MS = 600;
const MAX_SUBSCRIPTIONS = 3;
const server = useTestServer({
  jwt: JWT,
  sockets: { ...loadConfig({}).sockets, trpcMaxSubscriptions: MAX_SUBSCRIPTIONS, trpcAuthTimeoutMs: AUTH_TIMEOUT_MS },
  limits: { ...loadConfig({}).limits, groupSendMemberShare: 1 },
});

let n = 0;
async function user(name: string, domain: DomainContext = server.domain) {
  n++;
  const { user, token } = await register(domain, { username: `${name}_${n}_${Date.now() % 100000}`, password: "secret123", nickname: name });
  return { uuid: user.uuid, token };
}

const say = (from: string, groupId: string, content: string) => sendMessage(server.domain, from, sendMessageInput.parse({ receiveId: groupId, content }));

/** One live.events subscription that records its messages, its start and its error. */
function subscribe(client: Client) {
  const contents: string[] = [];
  const state: { started: boolean; error: unknown } = { started: false, error: undefined };
  const sub = client.live.events.subscribe(undefined, {
    onStarted: () => (state.started = true),
    onData: (event) => {
      const item = event.data;
      if (item.kind === "message") contents.push(item.message.content);
    },
    onError: (error) => (state.error = error),
  });
  return { contents, state, stop: () => sub.unsubscribe() };
}

const codeOf = (error: unknown) => (error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined);

async function until(check: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
}

/** A raw socket on /trpc; resolves with the close code and how long it stayed open (or "open" after `watchMs`). */
function rawTrpcSocket(query: string, firstMessage: unknown, watchMs: number): Promise<{ code: number; openMs: number } | "open"> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/trpc${query}`);
    let openedAt = 0;
    ws.once("open", () => {
      openedAt = Date.now();
      if (firstMessage !== undefined) ws.send(JSON.stringify(firstMessage));
    });
    ws.once("error", reject);
    ws.once("close", (code) => {
      clearTimeout(watch);
      resolve({ code, openMs: Date.now() - openedAt });
    });
    const watch = setTimeout(() => {
      ws.removeAllListeners("close");
      ws.close();
      resolve("open");
    }, watchMs);
  });
}

describe("tRPC WebSocket: subscriptions per socket", () => {
  it(`holds ${MAX_SUBSCRIPTIONS}; one more is refused with TOO_MANY_REQUESTS while the others keep receiving; a stopped one frees its place`, async () => {
    const [a, b] = [await user("subs"), await user("peer")];
    const g = await createGroup(server.domain, a.uuid, { name: "subs", memberIds: [b.uuid] });
    const { client, close } = connect(server.url, a.token);
    try {
      const subs = Array.from({ length: MAX_SUBSCRIPTIONS }, () => subscribe(client));
      await until(() => subs.every((s) => s.state.started), "the subscriptions to start");
      const extra = subscribe(client);
      await until(() => extra.state.error !== undefined, "the extra subscription to be refused");
      expect(codeOf(extra.state.error)).toBe("TOO_MANY_REQUESTS");

      await say(b.uuid, g.uuid, "still here");
      await until(() => subs.every((s) => s.contents.includes("still here")), "every held subscription to receive");
      expect(subs.map((s) => s.state.error)).toEqual([undefined, undefined, undefined]);
      expect(extra.contents).toEqual([]);

      subs[0]!.stop();
      await pause(200);
      const again = subscribe(client);
      await until(() => again.state.started, "a new subscription in the freed place");
      await say(b.uuid, g.uuid, "after the stop");
      await until(() => again.contents.includes("after the stop") && subs[1]!.contents.includes("after the stop"), "the new one to receive");
      expect(again.state.error).toBeUndefined();
    } finally {
      await close();
    }
  });
});

describe("tRPC WebSocket: authentication deadline", () => {
  it("closes a socket that never sends its token, or sends a bad one, after the deadline; keeps one with a valid token", async () => {
    const a = await user("auth");
    const watch = AUTH_TIMEOUT_MS * 4;
    const [silent, noParams, badToken, good] = await Promise.all([
      rawTrpcSocket("?connectionParams=1", undefined, watch),
      rawTrpcSocket("", undefined, watch),
      rawTrpcSocket("?connectionParams=1", { method: "connectionParams", data: { token: "not.a.jwt" } }, watch),
      rawTrpcSocket("?connectionParams=1", { method: "connectionParams", data: { token: a.token } }, watch),
    ]);
    for (const closed of [silent, noParams, badToken]) {
      expect(closed).toEqual({ code: 1008, openMs: expect.any(Number) as unknown });
      const { openMs } = closed as { openMs: number };
      expect(openMs).toBeGreaterThanOrEqual(AUTH_TIMEOUT_MS - 50);
      expect(openMs).toBeLessThan(watch);
    }
    expect(good).toBe("open");
  });
});

describe("tRPC WebSocket: token expiry", () => {
  it("ends the subscription with UNAUTHORIZED when its token expires, refuses new ones on it; a longer token goes on", async () => {
    const [a, b] = [await user("short"), await user("long")];
    const g = await createGroup(server.domain, a.uuid, { name: "expiry", memberIds: [b.uuid] });
    // Same secret and issuer as the server; a lifetime of 3 s.
    const shortToken = await createTokenService({ ...JWT, expireHours: 3 / 3600 }).sign({ uuid: a.uuid, username: "short" });
    const short = connect(server.url, shortToken);
    const long = connect(server.url, b.token);
    try {
      const s = subscribe(short.client);
      const l = subscribe(long.client);
      await until(() => s.state.started && l.state.started, "both subscriptions to start");
      await say(b.uuid, g.uuid, "before");
      await until(() => s.contents.includes("before") && l.contents.includes("before"), "both to receive before the expiry");
      expect(s.state.error).toBeUndefined();

      await until(() => s.state.error !== undefined, "the short token's subscription to end", 6000);
      expect(codeOf(s.state.error)).toBe("UNAUTHORIZED");
      await say(b.uuid, g.uuid, "after");
      await until(() => l.contents.includes("after"), "the long token's subscription to receive");
      const retry = subscribe(short.client);
      await until(() => retry.state.error !== undefined, "a new subscription on the expired socket to be refused");
      expect(codeOf(retry.state.error)).toBe("UNAUTHORIZED");
      expect({ short: s.contents, retried: retry.contents, longError: l.state.error }).toEqual({ short: ["before"], retried: [], longError: undefined });
    } finally {
      await Promise.all([short.close(), long.close()]);
    }
  });

  it("closes the socket itself the authentication deadline after its token expired", async () => {
    const a = await user("closing");
    const shortToken = await createTokenService({ ...JWT, expireHours: 2 / 3600 }).sign({ uuid: a.uuid, username: "closing" });
    const expiresAt = JSON.parse(Buffer.from(shortToken.split(".")[1]!, "base64url").toString()) as { exp: number };
    const opened = Date.now();
    const closed = await rawTrpcSocket("?connectionParams=1", { method: "connectionParams", data: { token: shortToken } }, 6000);
    expect(closed).toEqual({ code: 1008, openMs: expect.any(Number) as unknown });
    // Not before the expiry and the deadline after it.
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.exp * 1000 + AUTH_TIMEOUT_MS - 50);
    expect(Date.now() - opened).toBeLessThan(6000);
  });
});
