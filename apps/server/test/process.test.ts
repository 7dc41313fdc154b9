import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { postJson, tempDir, testDatabase } from "./helpers.js";
import { requestsReceived, spawnServer } from "./process-helpers.js";

describe("the server process", () => {
  it("finishes an in-flight request on SIGTERM, even sent twice, then exits 0 and stops listening", async () => {
    using dir = tempDir();
    await using database = await testDatabase();
    const { child, url, logs } = await spawnServer({ DATA_DIR: dir.path, ...(database.url ? { DATABASE_URL: database.url } : {}) });
    try {
      // Registration hashes with the production scrypt cost (hundreds of ms): SIGTERM lands mid-request.
      const inFlight = postJson(url, "/register", { username: "in_flight", password: "secret123", nickname: "F" });
      await requestsReceived(logs, "/register", 1);
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      // A process manager signals the whole group and npm forwards its copy: the second one, once
      // shutdown has begun, must not end the process before the request is answered.
      await new Promise((r) => setTimeout(r, 20));
      child.kill("SIGTERM");
      const response = await inFlight;
      expect(response.json).toMatchObject({ code: 200, data: { username: "in_flight" } });
      const [code] = (await exited) as [number | null];
      expect(code, logs.join("")).toBe(0);
      expect(logs.join("")).toContain("shutting down");
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
