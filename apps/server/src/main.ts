import { startServer } from "./app.js";
import { loadConfig } from "./env.js";

const config = loadConfig();
const server = await startServer(config);
server.app.log.info({ url: server.url, database: server.db.driver, dataDir: config.dataDir }, "OmniLink server ready");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.app.log.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  const timer = setTimeout(() => {
    server.app.log.error("shutdown timed out; exiting");
    process.exit(1);
  }, config.shutdownTimeoutMs);
  timer.unref();
  try {
    await server.close();
    server.app.log.info("stopped");
    process.exit(0);
  } catch (error) {
    server.app.log.error({ err: error }, "shutdown failed");
    process.exit(1);
  }
}
// `on`, not `once`: a process manager signals the whole process group and npm forwards the signal
// too, so a second SIGTERM can arrive mid-shutdown and must not fall back to the default (exit now).
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void shutdown(signal));
