import { register } from "@omnilink/domain";
import { describe, expect, it } from "vitest";
import { startIsolatedServer, useTestServer } from "./helpers.js";
import { cookiesOf, httpLimits, legacyLogin, redisFromEnv, send, trpcLogin, uniqueChannel } from "./limits-helpers.js";

/*
 * Login and register attempts per client address and per username (AUTH_*), the same budget on the
 * legacy routes and tRPC; tRPC batches (TRPC_MAX_BATCH, no auth call in a batch). Each client is a
 * loopback address of its own.
 */

const server = useTestServer({ http: httpLimits({ auth: { windowMs: 60_000, maxPerIp: 6, maxPerUsername: 3 }, trpcMaxBatch: 3 }), ...redisFromEnv() });

let n = 0;
/** An account made in the domain directly (no HTTP attempt counted). */
async function account(name: string) {
  const username = `${name}_${++n}_${Date.now() % 100000}`;
  const session = await register(server.domain, { username, password: "secret123", nickname: name });
  return { username, uuid: session.user.uuid, token: session.token };
}

describe("legacy /login and /register", () => {
  it("limits attempts per username (across clients) and per client address, answering the envelope with code 429", async () => {
    const [alice, bob, carol] = [await account("alice"), await account("bob"), await account("carol")];
    for (let i = 0; i < 3; i++) expect((await legacyLogin(server.url, "127.0.0.2", alice.username, "wrong-pw")).json).toEqual({ code: 400, message: "密码错误" });
    const locked = await legacyLogin(server.url, "127.0.0.2", alice.username, "wrong-pw");
    expect(locked.status).toBe(200);
    expect(locked.json.code).toBe(429);
    expect(locked.json.message).toMatch(/^该账号登录尝试过于频繁，请 \d+ 秒后再试$/);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(locked.headers["retry-after"])).toBeLessThanOrEqual(60);
    // The right password from another client does not get past the username's limit either...
    expect((await legacyLogin(server.url, "127.0.0.3", alice.username, "secret123")).json.code).toBe(429);
    // ...while another account logs in from there.
    expect((await legacyLogin(server.url, "127.0.0.3", bob.username, "secret123")).json).toMatchObject({ code: 200, data: { uuid: bob.uuid } });

    // 127.0.0.2 has made 4 attempts: two more (unknown users) are allowed, the 7th is refused whatever the account.
    for (const name of ["ghost_a", "ghost_b"]) expect((await legacyLogin(server.url, "127.0.0.2", name, "x")).json).toEqual({ code: 400, message: "用户不存在" });
    const tooMany = await legacyLogin(server.url, "127.0.0.2", carol.username, "secret123");
    expect(tooMany.json.code).toBe(429);
    expect(tooMany.json.message).toMatch(/^登录尝试过于频繁，请 \d+ 秒后再试$/);
    const register = await send(server.url, "127.0.0.2", "/register", { body: { username: "newcomer_x", password: "secret123", nickname: "new" } });
    expect(register.json.code).toBe(429);
    expect(register.json.message).toMatch(/^注册尝试过于频繁/);
    // The same account from another client: fine.
    expect((await legacyLogin(server.url, "127.0.0.4", carol.username, "secret123")).json).toMatchObject({ code: 200, data: { uuid: carol.uuid } });
    expect((await send(server.url, "127.0.0.4", "/register", { body: { username: `newcomer_${n}`, password: "secret123", nickname: "new" } })).json.code).toBe(200);
  });
});

describe("tRPC auth.login", () => {
  it("answers TOO_MANY_REQUESTS over the limits, and shares the budget with the legacy routes", async () => {
    const [dave, erin] = [await account("dave"), await account("erin")];
    for (let i = 0; i < 3; i++) {
      const wrong = await trpcLogin(server.url, "127.0.0.5", dave.username, "wrong-pw");
      expect(wrong.status).toBe(400);
      expect(wrong.json.error?.json.message).toBe("密码错误");
    }
    const locked = await trpcLogin(server.url, "127.0.0.5", dave.username, "secret123");
    expect(locked.status).toBe(429);
    expect(locked.json.error?.json.data.code).toBe("TOO_MANY_REQUESTS");
    expect(locked.json.error?.json.message).toMatch(/^该账号登录尝试过于频繁/);
    // The legacy route counts in the same place.
    expect((await legacyLogin(server.url, "127.0.0.6", dave.username, "secret123")).json.code).toBe(429);
    // Per client address: 127.0.0.5 has 4 attempts; 2 more, then refused.
    for (const name of ["ghost_c", "ghost_d"]) expect((await trpcLogin(server.url, "127.0.0.5", name, "x")).status).toBe(400);
    const tooMany = await trpcLogin(server.url, "127.0.0.5", erin.username, "secret123");
    expect(tooMany.status).toBe(429);
    expect(tooMany.json.error?.json.message).toMatch(/^登录尝试过于频繁/);
    const ok = await trpcLogin(server.url, "127.0.0.7", erin.username, "secret123");
    expect(ok.status).toBe(200);
    expect((ok.json as unknown as { result: { data: { json: { user: { uuid: string } } } } }).result.data.json.user.uuid).toBe(erin.uuid);
  });
});

describe("device cookies: someone failing logins cannot lock the owner out", () => {
  it("a browser that signed in before keeps a budget of its own; guessers, other accounts' cookies and forged ones share the account's", async () => {
    const [owner, other] = [await account("owner"), await account("other")];
    // The owner signs in once from their browser (legacy route) and keeps its cookie.
    const first = await legacyLogin(server.url, "127.0.1.1", owner.username, "secret123");
    expect(first.json.code).toBe(200);
    const ownerCookie = cookiesOf(first);
    expect(ownerCookie).toMatch(/^omnilink_device_[\w-]+=/);
    expect(String(first.headers["set-cookie"])).toMatch(/HttpOnly/i);
    expect(String(first.headers["set-cookie"])).toMatch(/SameSite=Strict/i);
    // Someone else spends the rest of the account's shared budget (3; that login was one) from elsewhere...
    for (let i = 0; i < 2; i++) expect((await legacyLogin(server.url, "127.0.1.2", owner.username, "wrong-pw")).json.code).toBe(400);
    expect((await legacyLogin(server.url, "127.0.1.2", owner.username, "secret123")).json.code).toBe(429);
    // ...and the owner's browser still signs in, on both transports (its cookie is not renewed: it holds).
    const again = await legacyLogin(server.url, "127.0.1.1", owner.username, "secret123", ownerCookie);
    expect(again.json).toMatchObject({ code: 200, data: { uuid: owner.uuid } });
    expect(again.headers["set-cookie"]).toBeUndefined();
    expect((await trpcLogin(server.url, "127.0.1.1", owner.username, "secret123", ownerCookie)).status).toBe(200);
    // The device's own budget is limited too: guessing with a stolen browser gets no further.
    expect((await trpcLogin(server.url, "127.0.1.1", owner.username, "wrong-pw", ownerCookie)).status).toBe(400);
    expect((await trpcLogin(server.url, "127.0.1.3", owner.username, "secret123", ownerCookie)).status).toBe(429);

    // Another account's cookie, renamed to this account's, or altered, counts as none.
    const otherCookie = cookiesOf(await legacyLogin(server.url, "127.0.1.4", other.username, "secret123"));
    const [ownerName] = ownerCookie.split("=");
    const renamed = `${ownerName}=${otherCookie.split("=").slice(1).join("=")}`;
    expect((await legacyLogin(server.url, "127.0.1.4", owner.username, "secret123", renamed)).json.code).toBe(429);
    const forged = ownerCookie.replace(/=(.)/, (_m, c: string) => `=${c === "A" ? "B" : "A"}`);
    expect((await legacyLogin(server.url, "127.0.1.4", owner.username, "secret123", forged)).json.code).toBe(429);
  });
});

describe("tRPC batches", () => {
  const me = (count: number) => `/trpc/${Array.from({ length: count }, () => "auth.me").join(",")}?batch=1&input=%7B%7D`;

  it("runs a batch of TRPC_MAX_BATCH calls and refuses a larger one with 400", async () => {
    const frank = await account("frank");
    const three = await send(server.url, "127.0.0.8", me(3), { method: "GET", token: frank.token });
    expect(three.status).toBe(200);
    expect(three.json).toHaveLength(3);
    const four = await send(server.url, "127.0.0.8", me(4), { method: "GET", token: frank.token });
    expect(four.status).toBe(400);
    expect(JSON.stringify(four.json)).toContain("Batch call exceeds maximum size");
  });

  it("refuses auth.login inside a batch of several calls (without hashing), and takes a batch of one", async () => {
    const gina = await account("gina");
    const login = { json: { username: gina.username, password: "secret123" } };
    const three = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [String(i), login]));
    const batched = await send(server.url, "127.0.0.9", "/trpc/auth.login,auth.login,auth.login?batch=1", { body: three });
    expect(batched.status).toBe(400);
    expect(JSON.stringify(batched.json)).toContain("cannot be batched");
    const mixed = await send(server.url, "127.0.0.9", "/trpc/auth.me,auth.login?batch=1", { body: { "0": { json: null }, "1": login } });
    expect(mixed.status).toBe(400);
    // What tRPC's httpBatchLink sends for a login alone.
    const alone = await send(server.url, "127.0.0.9", "/trpc/auth.login?batch=1", { body: { "0": login } });
    expect(alone.status).toBe(200);
    expect(JSON.stringify(alone.json)).toContain(gina.uuid);
  });
});

describe("several nodes", () => {
  it("count in Redis (REDIS_URL): attempts on one node count on the other, per deployment (REDIS_CHANNEL)", async () => {
    // The Redis of REDIS_URL, or the one on the default port (CI starts it); a channel of this test only.
    const shared = { redisUrl: process.env.REDIS_URL?.trim() || "redis://127.0.0.1:6379", redisChannel: uniqueChannel() };
    const http = httpLimits({ auth: { windowMs: 60_000, maxPerIp: 4, maxPerUsername: 2 } });
    await using one = await startIsolatedServer({ http, ...shared });
    await using two = await startIsolatedServer({ http, ...shared });
    // Per username: unknown names count too (the limit is asked before the account is looked up).
    expect((await legacyLogin(one.url, "127.0.2.1", "ghost_x", "x")).json.message).toBe("用户不存在");
    expect((await trpcLogin(two.url, "127.0.2.2", "ghost_x", "x")).status).toBe(400);
    expect((await legacyLogin(two.url, "127.0.2.3", "ghost_x", "x")).json.code).toBe(429);
    // Per client address: 127.0.2.1 made one attempt on node one; three more on node two, then refused on one.
    for (const name of ["ghost_y", "ghost_z", "ghost_w"]) expect((await legacyLogin(two.url, "127.0.2.1", name, "x")).json.code).toBe(400);
    const refused = await legacyLogin(one.url, "127.0.2.1", "ghost_v", "x");
    expect(refused.json.code).toBe(429);
    expect(refused.json.message).toMatch(/^登录尝试过于频繁/);
    // A node of another deployment (another channel) counts apart.
    await using other = await startIsolatedServer({ http, redisUrl: shared.redisUrl, redisChannel: uniqueChannel() });
    expect((await legacyLogin(other.url, "127.0.2.1", "ghost_v", "x")).json.message).toBe("用户不存在");
  }, 90_000);
});
