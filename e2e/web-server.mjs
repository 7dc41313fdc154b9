// The server the end-to-end specs run against: a fresh embedded database (PGlite) in a temporary
// data folder, removed again when Playwright stops the server. The console and the server bundle
// must be built first (playwright.config.ts runs `npm run build` before this script).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const dataDir = mkdtempSync(join(tmpdir(), "omnilink-e2e-"));
const env = { ...process.env, DATA_DIR: dataDir, HOST: process.env.HOST ?? "127.0.0.1", LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" };
// Always the embedded database and the in-process bus, whatever the shell has set.
delete env.DATABASE_URL;
delete env.REDIS_URL;

const server = spawn(process.execPath, ["--enable-source-maps", "apps/server/dist/main.js"], { env, stdio: "inherit" });
const stop = (signal) => {
  if (server.exitCode === null) server.kill(signal);
};
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => stop("SIGTERM"));
server.on("exit", (code, signal) => {
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(code ?? (signal ? 0 : 1));
});
