import { describe, expect, it } from "vitest";
import { useTestServer } from "./helpers.js";
import { httpLimits, send, sendSlowly } from "./limits-helpers.js";

/* Request, header and body limits of the HTTP server (REQUEST_TIMEOUT_MS, HEADERS_TIMEOUT_MS, BODY_LIMIT_BYTES). */

const TIMEOUT_MS = 1000;
const server = useTestServer({ http: httpLimits({ requestTimeoutMs: TIMEOUT_MS, headersTimeoutMs: TIMEOUT_MS, bodyLimitBytes: 4096 }) });

const head = (contentLength: number) =>
  `POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\nConnection: close\r\n\r\n`;

describe("slow clients", () => {
  it("cuts off a client that sends its body byte by byte once the request timeout has passed (408)", async () => {
    const body = JSON.stringify({ username: "slow", password: "x".repeat(200) });
    // One byte every 50 ms: the body would take about 11 s.
    const slow = await sendSlowly(server.url, head(body.length), body, 50, 8000);
    expect(slow.received).toMatch(/^HTTP\/1\.1 408/);
    expect(slow.closedAfterMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    // Node checks the timeouts every quarter of the shortest one here.
    expect(slow.closedAfterMs).toBeLessThan(TIMEOUT_MS * 2.5);
  });

  it("answers a client that sends slowly but within the timeout", async () => {
    const body = JSON.stringify({ username: "u", password: "p" });
    // 30 bytes at 20 ms each: about 0.6 s, under the 1 s timeout.
    const slow = await sendSlowly(server.url, head(body.length), body, 20, 8000);
    expect(slow.received).toMatch(/^HTTP\/1\.1 200/);
    expect(slow.received).toContain("用户不存在");
  });

  it("cuts off a client that never finishes its headers", async () => {
    const slow = await sendSlowly(server.url, "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n", "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 50, 8000);
    expect(slow.received).toMatch(/^HTTP\/1\.1 408/);
    expect(slow.closedAfterMs).toBeLessThan(TIMEOUT_MS * 2.5);
  });

  it("answers a normal request at once", async () => {
    const res = await send(server.url, "127.0.0.1", "/login", { body: { username: "nobody", password: "secret123" } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ code: 400, message: "用户不存在" });
    expect(res.ms).toBeLessThan(TIMEOUT_MS);
  });
});

describe("body size", () => {
  it("refuses a JSON body over BODY_LIMIT_BYTES with 413 and the envelope; a body under it is read", async () => {
    // The size is in a field the route ignores: the fields it reads have their own maxima.
    const over = await send(server.url, "127.0.0.1", "/login", { body: { username: "nobody", password: "secret123", padding: "x".repeat(5000) } });
    expect(over.status).toBe(413);
    expect(over.json).toEqual({ code: 400, message: "参数错误" });
    const under = await send(server.url, "127.0.0.1", "/login", { body: { username: "nobody", password: "secret123", padding: "x".repeat(3000) } });
    expect(under.status).toBe(200);
    expect(under.json).toEqual({ code: 400, message: "用户不存在" });
  });
});
