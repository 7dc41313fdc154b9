import { appRouter, bearerToken, createApiContext, type AppRouter } from "@omnilink/api";
import type { DomainContext } from "@omnilink/domain";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import type { FastifyInstance } from "fastify";
import type { WebSocketServer } from "ws";

/** tRPC over HTTP at /trpc (Fastify) and over WebSocket on the shared `wss` (subscriptions). */
export async function registerTrpc(app: FastifyInstance, domain: DomainContext, wss: WebSocketServer, pingMs: number) {
  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      createContext: ({ req }) => createApiContext(domain, bearerToken(req.headers.authorization)),
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR") app.log.error({ err: error.cause ?? error, path }, "tRPC procedure failed");
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });
  return applyWSSHandler<AppRouter>({
    wss,
    router: appRouter,
    createContext: ({ info }) => createApiContext(domain, info.connectionParams?.token),
    keepAlive: { enabled: true, pingMs, pongWaitMs: 10_000 },
  });
}
