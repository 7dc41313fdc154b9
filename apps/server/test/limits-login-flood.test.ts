import { users } from "@omnilink/db";
import { DEFAULT_LIMITS, hashPassword, newId } from "@omnilink/domain";
import { beforeAll, describe, expect, it } from "vitest";
import { startIsolatedServer, useTestServer, type TestServer } from "./helpers.js";
import { httpLimits, legacyLogin, send, trpcLogin, type Answer } from "./limits-helpers.js";

/*
 * A flood of wrong-password logins from one client must not starve other people's logins: the
 * attempt limits refuse most of it at once and the hashing gate runs at most one check per account
 * and a few at a time. Real scrypt cost, default limits. The figures are printed for the record.
 */

const server = useTestServer({ http: httpLimits() });

/** One real hash of "secret123" (default cost), shared by the accounts the tests insert. */
let passwordHash: string;
beforeAll(async () => {
  passwordHash = await hashPassword("secret123");
});

let n = 0;
/** An account inserted directly, so that making it costs no hashing (the flood is what is measured). */
async function account(on: TestServer, name: string) {
  const username = `${name}_${++n}_${Date.now() % 100000}`;
  const uuid = newId("U");
  await on.server.db.db.insert(users).values({ uuid, username, nickname: name, passwordHash });
  return { username, uuid };
}

const outcome = (answers: Answer[]) => {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const body: unknown = a.json;
    const key = Array.isArray(body)
      ? `${a.status} batch: ${String((body[0] as { error?: { json?: { message?: string } } } | undefined)?.error?.json?.message)}`
      : a.json.error ? `${a.status} ${a.json.error.json.message}` : `${a.status} ${a.json.code} ${a.json.message}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

/** Starts `attack`, lets it get going, then times a legitimate login from another client. */
async function loginDuring(attack: () => Promise<Answer[]>, legit: () => Promise<Answer>) {
  const flood = attack();
  await new Promise((r) => setTimeout(r, 50));
  const answer = await legit();
  return { answer, flood: await flood };
}

describe("a login flood on one account", () => {
  it("legacy /login: 32 parallel wrong-password logins from one client; another account logs in in under 2 s", async () => {
    const [target, legit] = [await account(server, "target"), await account(server, "legit")];
    const alone = await legacyLogin(server.url, "127.0.0.3", legit.username, "secret123");
    const { answer, flood } = await loginDuring(
      () => Promise.all(Array.from({ length: 32 }, () => legacyLogin(server.url, "127.0.0.2", target.username, "wrong-pw"))),
      () => legacyLogin(server.url, "127.0.0.3", legit.username, "secret123"),
    );
    console.log(`[login flood, legacy] legitimate login alone: ${alone.ms.toFixed(0)} ms, during the flood: ${answer.ms.toFixed(0)} ms; flood answers: ${JSON.stringify(outcome(flood))}, slowest ${Math.max(...flood.map((a) => a.ms)).toFixed(0)} ms`);
    expect(answer.json).toMatchObject({ code: 200, data: { uuid: legit.uuid } });
    expect(answer.ms).toBeLessThan(2000);
    // Most of the flood was turned away without hashing.
    expect(flood.filter((a) => a.json.code === 429).length).toBeGreaterThanOrEqual(32 - DEFAULT_LIMITS.hashQueue);
    expect(flood.every((a) => a.json.code === 429 || a.json.message === "密码错误")).toBe(true);
  });

  it("tRPC: 32 parallel wrong-password logins and batches of 9 from one client; another account logs in in under 2 s", async () => {
    const [target, legit] = [await account(server, "target"), await account(server, "legit")];
    const batch = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [String(i), { json: { username: target.username, password: "wrong-pw" } }]));
    const batchPath = `/trpc/${Array.from({ length: 9 }, () => "auth.login").join(",")}?batch=1`;
    const alone = await trpcLogin(server.url, "127.0.0.5", legit.username, "secret123");
    const { answer, flood } = await loginDuring(
      () =>
        Promise.all([
          ...Array.from({ length: 32 }, () => trpcLogin(server.url, "127.0.0.4", target.username, "wrong-pw")),
          ...Array.from({ length: 4 }, () => send(server.url, "127.0.0.4", batchPath, { body: batch })),
        ]),
      () => trpcLogin(server.url, "127.0.0.5", legit.username, "secret123"),
    );
    console.log(`[login flood, tRPC] legitimate login alone: ${alone.ms.toFixed(0)} ms, during the flood: ${answer.ms.toFixed(0)} ms; flood answers: ${JSON.stringify(outcome(flood))}`);
    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.json)).toContain(legit.uuid);
    expect(answer.ms).toBeLessThan(2000);
    expect(flood.slice(32).every((a) => a.status === 400)).toBe(true);
    expect(flood.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(32 - DEFAULT_LIMITS.hashQueue);
  });
});

describe("the hashing gate over HTTP", () => {
  it("answers 429 at once when the hashing queue is full, and checks the passwords it admits", async () => {
    await using tight = await startIsolatedServer({
      http: httpLimits({ auth: { windowMs: 60_000, maxPerIp: 100_000, maxPerUsername: 100_000 } }),
      limits: { ...DEFAULT_LIMITS, hashConcurrency: 1, hashQueue: 1 },
    });
    const users = [];
    for (let i = 0; i < 6; i++) users.push(await account(tight, "gate"));
    const answers = await Promise.all(users.map((u, i) => legacyLogin(tight.url, `127.0.1.${i + 1}`, u.username, "wrong-pw")));
    const busy = answers.filter((a) => a.json.code === 429);
    const checked = answers.filter((a) => a.json.message === "密码错误");
    console.log(`[hashing gate] ${checked.length} checked, ${busy.length} refused; slowest refusal ${Math.max(...busy.map((a) => a.ms)).toFixed(0)} ms`);
    expect(checked.length).toBeGreaterThanOrEqual(2);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    expect(checked.length + busy.length).toBe(6);
    for (const b of busy) expect(b.json.message).toBe("服务器繁忙，请稍后再试");
    // Refusals do not wait for a hash.
    expect(Math.max(...busy.map((a) => a.ms))).toBeLessThan(Math.min(...checked.map((a) => a.ms)));
  }, 60_000);
});
