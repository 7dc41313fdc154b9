import { appRouter, bearerToken, createApiContext, type AppRouter } from "@omnilink/api";
import { AppError, whenExpired, type DomainContext } from "@omnilink/domain";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from "@trpc/server/adapters/fastify";
import { TRPCError } from "@trpc/server";
import type { FastifyInstance } from "fastify";
import type { WebSocket, WebSocketServer } from "ws";
import type { HttpLimiters } from "./limits.js";

/** Procedures that hash a password: one per request, so a batch cannot multiply the hashing a request costs. */
const AUTH_ATTEMPTS = new Set(["auth.login", "auth.register"]);

export interface TrpcOptions {
  /** WebSocket ping interval. */
  pingMs: number;
  /** Most calls in one HTTP batch (larger batches: 400). */
  maxBatchSize: number;
  limiters: HttpLimiters;
  /** Live subscriptions one socket may hold at once. */
  maxSubscriptions: number;
  /** How long a socket may stay open without a valid token (never sent one, or it expired). */
  authTimeoutMs: number;
}

/** tRPC over HTTP at /trpc (Fastify) and over WebSocket on the shared `wss` (subscriptions). */
export async function registerTrpc(app: FastifyInstance, domain: DomainContext, wss: WebSocketServer, options: TrpcOptions) {
  /** The one log line of an internal failure, over HTTP or WebSocket (the api's middleware does not log it). */
  const logInternal = ({ error, path }: { error: TRPCError; path?: string | undefined }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") app.log.error({ err: error.cause ?? error, path }, "tRPC procedure failed");
  };
  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      maxBatchSize: options.maxBatchSize,
      createContext: ({ req, res, info }) => {
        if (info.calls.length > 1 && info.calls.some((call) => AUTH_ATTEMPTS.has(call.path))) {
          throw new TRPCError({ code: "BAD_REQUEST", message: "auth.login and auth.register cannot be batched: send them alone" });
        }
        // The attempt limits key on the request's client address (req.ip, proxy-aware per TRUST_PROXY).
        return createApiContext(domain, bearerToken(req.headers.authorization), {
          admitAuth: (kind, username) => options.limiters.admitAuth(req, res, kind, username),
        });
      },
      onError: logInternal,
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });

  // Everything a socket offers needs a token (sent as connectionParams), so a socket holds one or
  // goes: one that has not shown a valid token by the deadline is closed, and so is one whose
  // token expired that long ago (its subscriptions ended with UNAUTHORIZED at the expiry itself).
  const expiryOf = new WeakMap<WebSocket, number>();
  wss.on("connection", (ws: WebSocket) => {
    const deadline = setTimeout(() => {
      if ((expiryOf.get(ws) ?? 0) <= Date.now()) ws.close(1008, "authentication required");
    }, options.authTimeoutMs);
    deadline.unref();
    ws.once("close", () => clearTimeout(deadline));
  });

  return applyWSSHandler<AppRouter>({
    wss,
    router: appRouter,
    createContext: async ({ res, info }) => {
      // The socket this server's `wss` accepted. tRPC 11.22's declarations name its type through
      // the default export of "ws", which @types/ws's ESM entry does not resolve, so it reads as
      // an unresolved type here; say what it is.
      const ws = res as unknown as WebSocket;
      const ctx = await createApiContext(domain, info.connectionParams?.token, {
        socket: { subscriptions: 0, maxSubscriptions: options.maxSubscriptions },
        // Logins and registrations go over HTTP, where their limits apply; the socket is for signed-in calls.
        admitAuth: () => Promise.reject(new AppError("BAD_REQUEST", "auth.login and auth.register are served over HTTP only")),
      });
      if (ctx.user && ctx.expiresAt !== undefined) {
        expiryOf.set(ws, ctx.expiresAt);
        const cancel = whenExpired(ctx.expiresAt + options.authTimeoutMs, () => ws.close(1008, "token expired"));
        ws.once("close", cancel);
      }
      return ctx;
    },
    keepAlive: { enabled: true, pingMs: options.pingMs, pongWaitMs: 10_000 },
    onError: logInternal,
  });
}
