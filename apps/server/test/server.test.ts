import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createTokenService } from "@omnilink/domain";
import { loadConfig } from "../src/env.js";
import { BIND_ERROR, pause, postJson, startIsolatedServer, startTestServer, tempDir, testDatabase } from "./helpers.js";

describe("config", () => {
  it("has the documented defaults", () => {
    const config = loadConfig({}, "/srv/app");
    expect(config).toMatchObject({ port: 8000, host: "0.0.0.0", databaseUrl: undefined, dataDir: "/srv/app/.data" });
    expect(config.jwt).toEqual({ secret: undefined, issuer: "OmniLink", expireHours: 24 });
  });

  it("rejects bad values with a message naming the variable", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT/);
    expect(() => loadConfig({ JWT_SECRET: "short" })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ DATABASE_URL: "not a url" })).toThrow(/DATABASE_URL/);
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", JWT_SECRET: " " }).databaseUrl).toBeUndefined();
  });
});

describe("server", () => {
  it("answers /healthz and keeps accounts and tokens across a restart", async () => {
    using dir = tempDir();
    await using database = await testDatabase();
    let token: string;
    let uuid: string;
    {
      await using server = await startTestServer(dir.path, database.url);
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok", database: database.url ? "postgres" : "pglite" });

      const reg = await postJson(server.url, "/register", { username: "restart_user", password: "secret123", nickname: "R" });
      expect(reg.status).toBe(200);
      expect(reg.json).toMatchObject({ code: 200, message: "Success" });
      token = String(reg.json.data?.token);
      uuid = String(reg.json.data?.uuid);
      if (!database.url) expect(existsSync(join(dir.path, "pglite"))).toBe(true);
      // The generated secret is readable by its owner only.
      expect(statSync(join(dir.path, "jwt-secret")).mode & 0o077).toBe(0);
    }
    const secretBefore = readFileSync(join(dir.path, "jwt-secret"), "utf8");
    await using again = await startTestServer(dir.path, database.url);
    expect(readFileSync(join(dir.path, "jwt-secret"), "utf8")).toBe(secretBefore);
    const login = await postJson(again.url, "/login", { username: "restart_user", password: "secret123" });
    expect(login.json).toMatchObject({ code: 200, message: "Success", data: { uuid, username: "restart_user" } });
    // The token issued before the restart still verifies: the secret was kept.
    const tokens = createTokenService({ secret: secretBefore, issuer: "OmniLink", expireHours: 24 });
    await expect(tokens.verify(token)).resolves.toEqual({ uuid, username: "restart_user" });
  });

  it("exposes Prometheus metrics, including live connections", async () => {
    await using server = await startIsolatedServer();
    const { default: WebSocket } = await import("ws");
    const reg = await server.post("/register", { username: "metrics_user", password: "secret123", nickname: "M" });
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/wss?client_id=${String(reg.json.data?.uuid)}&token=${String(reg.json.data?.token)}`);
    await new Promise((r) => ws.once("open", r));
    await pause(100);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^omnilink_websocket_connections\{endpoint="\/wss"\} 1$/m);
    expect(text).toMatch(/^omnilink_stream_subscribers 1$/m);
    ws.close();
  });

  it("answers bad JSON and unknown paths as the legacy server did", async () => {
    await using server = await startIsolatedServer();
    const bad = await server.post("/login", "{not json");
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ code: 400, message: "参数错误" });
    const missing = await server.post("/login", { username: "x" });
    expect([missing.status, missing.json]).toEqual(BIND_ERROR);
    const weak = await server.post("/register", { username: "ab", password: "1", nickname: "n" });
    expect(weak.status).toBe(200);
    expect(weak.json.code).toBe(400);
    expect(weak.json.message).toMatch(/用户名/);
    const unknown = await fetch(`${server.url}/no/such/path`, { method: "POST" });
    expect([unknown.status, await unknown.text()]).toEqual([404, "404 page not found"]);
  });
});
