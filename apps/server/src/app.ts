import { join } from "node:path";
import { createDb, type DbHandle } from "@omnilink/db";
import { createDomain, createMemoryBus, createRedisBus, createRedisPresenceStore, createTokenService, type DomainContext } from "@omnilink/domain";
import Fastify, { type FastifyInstance } from "fastify";
import { registerConsole } from "./console.js";
import type { Config } from "./env.js";
import { installErrorHandlers } from "./errors.js";
import { registerMetrics } from "./metrics.js";
import { registerLegacyRoutes } from "./legacy/routes.js";
import { deviceCookieSecret, registerLimiters } from "./limits.js";
import { resolveJwtSecret } from "./secret.js";
import { registerTrpc } from "./trpc.js";
import { createWebSocketRouter } from "./websockets.js";
import { createLegacySocketServer } from "./wss/legacy-socket.js";

export interface RunningServer {
  app: FastifyInstance;
  db: DbHandle;
  domain: DomainContext;
  /** http://host:port actually bound (useful with port 0). */
  url: string;
  /** Tells WebSocket clients to reconnect, stops accepting, lets in-flight requests finish, closes the database. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const { http } = config;
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: http.bodyLimitBytes,
    // A client that sends its request too slowly (byte by byte) is cut off with 408 once
    // requestTimeout has passed; node checks at connectionsCheckingInterval, so that is kept short.
    requestTimeout: http.requestTimeoutMs,
    connectionTimeout: http.connectionTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    http: {
      headersTimeout: http.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(Math.min(http.requestTimeoutMs, http.headersTimeoutMs) / 4))),
    },
    trustProxy: http.trustProxy,
    // Close idle keep-alive sockets on shutdown so close() does not wait for browsers.
    forceCloseConnections: "idle",
  });
  let shuttingDown = false;
  // Responses finished during shutdown close their keep-alive socket, so close() is not held open by idle clients.
  app.addHook("onSend", async (_request, reply) => {
    if (shuttingDown) reply.header("connection", "close");
  });
  const db = createDb({ databaseUrl: config.databaseUrl, dataDir: join(config.dataDir, "pglite") });
  const stops: Array<() => Promise<void>> = [];
  let domain: DomainContext & { stop(): Promise<void> };
  try {
    await db.migrate();
    const jwt = await resolveJwtSecret(config.jwt.secret, config.dataDir, db.db);
    if (jwt.source === "generated") app.log.info("generated a JWT secret, kept in the database (shared by every node of it)");
    const bus = config.redisUrl ? await createRedisBus(config.redisUrl, config.redisChannel, app.log) : createMemoryBus();
    stops.push(() => bus.close());
    // Presence marks live in Redis when there is one (shared by the nodes); else in this node's memory.
    const presenceStore = config.redisUrl ? await createRedisPresenceStore(config.redisUrl, `${config.redisChannel}:presence:`, app.log) : undefined;
    domain = await createDomain({
      bus,
      db: db.db,
      tokens: createTokenService({ secret: jwt.secret, issuer: config.jwt.issuer, expireHours: config.jwt.expireHours }),
      limits: config.limits,
      ...(config.scryptCost ? { scryptCost: config.scryptCost } : {}),
      log: app.log,
      streamPollMs: config.streamPollMs,
      presence: { ...(presenceStore ? { store: presenceStore } : {}), ...config.presence },
    });
    stops.unshift(() => domain.stop());

    const limiters = await registerLimiters(app, {
      limits: http,
      deviceSecret: deviceCookieSecret(jwt.secret),
      ...(config.redisUrl ? { redis: { url: config.redisUrl, keyPrefix: `${config.redisChannel}:limits:` } } : {}),
      log: app.log,
    });
    stops.push(() => limiters.close());
    // First route: its CORS hooks must be on the root before any other route or plugin scope exists.
    await registerLegacyRoutes(app, domain, { uploadDir: join(config.dataDir, "uploads"), uploadMaxBytes: config.uploadMaxBytes, limiters });
    app.get("/healthz", async (_request, reply) => {
      try {
        await db.ping();
        return { status: "ok", database: db.driver };
      } catch (error) {
        app.log.error({ err: error }, "health check failed");
        return reply.code(503).send({ status: "unavailable", database: db.driver });
      }
    });
    const sockets = createWebSocketRouter(app, config.maxSocketBufferBytes);
    const trpcWs = await registerTrpc(app, domain, sockets.serve("/trpc"), {
      pingMs: config.wsPingMs,
      maxBatchSize: http.trpcMaxBatch,
      limiters,
      maxSubscriptions: config.sockets.trpcMaxSubscriptions,
      authTimeoutMs: config.sockets.trpcAuthTimeoutMs,
    });
    const legacySockets = createLegacySocketServer(domain, app.log, {
      pingMs: config.wsPingMs,
      frameBurst: config.sockets.legacyFrameBurst,
      framesPerSecond: config.sockets.legacyFramesPerSecond,
      maxPendingFrames: config.sockets.legacyMaxPendingFrames,
    });
    sockets.serve("/wss", legacySockets.accept);
    stops.unshift(async () => {
      trpcWs.broadcastReconnectNotification();
      await sockets.close();
    });
    registerMetrics(app, domain, () => sockets.counts());
    await registerConsole(app);
    installErrorHandlers(app);

    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close().catch(() => {});
    for (const stop of stops) await stop().catch(() => {});
    await db.close().catch(() => {});
    throw error;
  }

  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      for (const stop of stops) await stop();
      await app.close();
      await db.close();
    })());
  return { app, db, domain, url: `http://${host}:${port}`, close, [Symbol.asyncDispose]: close };
}
