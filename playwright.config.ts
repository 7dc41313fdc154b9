import { defineConfig } from "@playwright/test";

/**
 * End-to-end specs: real Chromium (Debian's, no download) against the real server, built as
 * `npm start` builds it, which serves the built console on a fresh embedded database. `npm run test:e2e`.
 */
const port = Number(process.env.E2E_PORT ?? 18731);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/e2e-artifacts",
  timeout: 120_000,
  expect: { timeout: 15_000 },
  // One server, one 2-core machine: the specs run one after the other.
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  use: {
    baseURL,
    headless: true,
    viewport: { width: 1280, height: 800 },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
  projects: [{ name: "chromium" }],
  webServer: {
    // The production build `npm start` runs (turbo skips it when nothing changed).
    command: "npm run build && node e2e/web-server.mjs",
    url: `${baseURL}/healthz`,
    env: { PORT: String(port), HOST: "127.0.0.1" },
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
  },
});
