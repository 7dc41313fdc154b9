import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { registerUser, startIsolatedServer, useTestServer, type LegacyUser } from "./helpers.js";
import { httpLimits, redisFromEnv } from "./limits-helpers.js";

/* The per-user upload quota of POST /message/uploadFile (UPLOAD_QUOTA_*): files and bytes per window. */

const server = useTestServer({ http: httpLimits({ uploadQuota: { windowMs: 60_000, maxFiles: 4, maxBytes: 10_000 } }), ...redisFromEnv() });
let alice: LegacyUser;
let bob: LegacyUser;

beforeAll(async () => {
  alice = await registerUser(server.url, "alice");
  bob = await registerUser(server.url, "bob");
});

async function upload(baseUrl: string, token: string, bytes: number) {
  const form = new FormData();
  form.append("file", new Blob([Buffer.alloc(bytes, 7)], { type: "application/octet-stream" }), "data.bin");
  const res = await fetch(`${baseUrl}/message/uploadFile`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), json: (await res.json()) as { code: number; message: string } };
}

const storedFiles = (dataDir: string) => readdirSync(join(dataDir, "uploads")).filter((name) => !name.startsWith("."));

describe("upload quota", () => {
  it("stores uploads while the user is under both quotas, then answers the envelope with code 429; other users are unaffected", async () => {
    expect((await upload(server.url, alice.token, 4000)).json.code).toBe(200);
    expect((await upload(server.url, alice.token, 4000)).json.code).toBe(200);
    // 8000 of 10000 bytes used: 4000 more do not fit...
    const overBytes = await upload(server.url, alice.token, 4000);
    expect(overBytes.status).toBe(200);
    expect(overBytes.json.code).toBe(429);
    expect(overBytes.json.message).toMatch(/^上传总量已达上限，请 \d+ 秒后再试$/);
    expect(Number(overBytes.retryAfter)).toBeGreaterThan(0);
    // ...1000 do (the refused upload reserved nothing in the end).
    expect((await upload(server.url, alice.token, 1000)).json.code).toBe(200);
    // Four uploads in the window (the refused one counts): the fifth file is refused, however small.
    const overFiles = await upload(server.url, alice.token, 10);
    expect(overFiles.json.code).toBe(429);
    expect(overFiles.json.message).toMatch(/^上传文件过多，请 \d+ 秒后再试$/);
    expect((await upload(server.url, bob.token, 4000)).json.code).toBe(200);
    expect(storedFiles(server.dataDir)).toHaveLength(4);
  });

  it("holds for uploads sent in parallel: 40 x 512 KB against a 2 MiB quota store at most 4", async () => {
    await using quota = await startIsolatedServer({ http: httpLimits({ uploadQuota: { windowMs: 60_000, maxFiles: 100, maxBytes: 2 * 1024 * 1024 } }), ...redisFromEnv() });
    const carol = await registerUser(quota.url, "carol");
    const answers = await Promise.all(Array.from({ length: 40 }, () => upload(quota.url, carol.token, 512 * 1024)));
    const stored = answers.filter((a) => a.json.code === 200).length;
    console.log(`[upload quota] 40 parallel uploads of 512 KB, quota 2 MiB: ${stored} stored, ${answers.length - stored} refused`);
    expect(stored).toBeGreaterThanOrEqual(3);
    expect(stored).toBeLessThanOrEqual(4);
    expect(answers.filter((a) => a.json.code === 429)).toHaveLength(40 - stored);
    expect(storedFiles(quota.dataDir)).toHaveLength(stored);
  }, 60_000);
});
