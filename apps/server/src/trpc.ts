import { appRouter, bearerToken, createApiContext, type AppRouter } from "@omnilink/api";
import { AppError, type DomainContext } from "@omnilink/domain";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import { TRPCError } from "@trpc/server";
import type { FastifyInstance } from "fastify";
import type { WebSocketServer } from "ws";
import type { HttpLimiters } from "./limits.js";

/** Procedures that hash a password: one per request, so a batch cannot multiply the hashing a request costs. */
const AUTH_ATTEMPTS = new Set(["auth.login", "auth.register"]);

export interface TrpcOptions {
  /** WebSocket ping interval. */
  pingMs: number;
  /** Most calls in one HTTP batch (larger batches: 400). */
  maxBatchSize: number;
  limiters: HttpLimiters;
}

/** tRPC over HTTP at /trpc (Fastify) and over WebSocket on the shared `wss` (subscriptions). */
export async function registerTrpc(app: FastifyInstance, domain: DomainContext, wss: WebSocketServer, options: TrpcOptions) {
  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      maxBatchSize: options.maxBatchSize,
      createContext: ({ req, info }) => {
        if (info.calls.length > 1 && info.calls.some((call) => AUTH_ATTEMPTS.has(call.path))) {
          throw new TRPCError({ code: "BAD_REQUEST", message: "auth.login and auth.register cannot be batched: send them alone" });
        }
        // The attempt limits key on the request's client address (req.ip, proxy-aware per TRUST_PROXY).
        return createApiContext(domain, bearerToken(req.headers.authorization), (kind, username) => options.limiters.admitAuth(req, kind, username));
      },
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR") app.log.error({ err: error.cause ?? error, path }, "tRPC procedure failed");
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });
  return applyWSSHandler<AppRouter>({
    wss,
    router: appRouter,
    // Logins and registrations go over HTTP, where their limits apply; the socket is for signed-in calls.
    createContext: ({ info }) =>
      createApiContext(domain, info.connectionParams?.token, () => Promise.reject(new AppError("BAD_REQUEST", "auth.login and auth.register are served over HTTP only"))),
    keepAlive: { enabled: true, pingMs: options.pingMs, pongWaitMs: 10_000 },
  });
}
