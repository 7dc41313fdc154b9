import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { postJson, tempDir, testDatabase } from "./helpers.js";

const serverDir = fileURLToPath(new URL("..", import.meta.url));

/** Starts `src/main.ts` as the run command does and resolves with the URL from its ready log line. */
async function spawnServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; logs: string[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs.join("")}`)), 30_000);
    child.stderr?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      logs.push(chunk.toString());
      for (const line of chunk.toString().split("\n")) {
        if (!line.includes("OmniLink server ready")) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${logs.join("")}`)));
  });
  return { child, url, logs };
}

describe("the server process", () => {
  it("finishes an in-flight request on SIGTERM, then exits 0 and stops listening", async () => {
    using dir = tempDir();
    await using database = await testDatabase();
    const { child, url, logs } = await spawnServer({ DATA_DIR: dir.path, ...(database.url ? { DATABASE_URL: database.url } : {}) });
    try {
      // Registration hashes with the production scrypt cost (hundreds of ms): SIGTERM lands mid-request.
      const inFlight = postJson(url, "/register", { username: "in_flight", password: "secret123", nickname: "F" });
      await new Promise((r) => setTimeout(r, 50));
      const exited = once(child, "exit");
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
