import type { DomainContext } from "@omnilink/domain";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { legacyErrorHandler } from "../errors.js";
import type { HttpLimiters } from "../limits.js";
import { authenticate } from "./auth.js";
import { registerCors } from "./cors.js";
import { replyFailure, success } from "./envelope.js";
import type { Caller, LegacyRoute, RouteEnv } from "./route.js";
import { approvalRoutes } from "./routes/approvals.js";
import { authRoutes } from "./routes/auth.js";
import { contactRoutes } from "./routes/contacts.js";
import { groupRoutes } from "./routes/groups.js";
import { messageRoutes } from "./routes/messages.js";
import { sessionRoutes } from "./routes/sessions.js";
import { DEFAULT_UPLOAD_MAX_BYTES, registerUploads } from "./upload.js";

export interface LegacyOptions {
  /** Where uploads are stored and served from (<dataDir>/uploads). */
  uploadDir: string;
  /** Largest upload in bytes (default 20 MiB). */
  uploadMaxBytes?: number;
  /** Login attempts and upload quota. */
  limiters: HttpLimiters;
}

/**
 * Every legacy HTTP route (legacy-contract §2.0 rows 1-2, 4-30, and D10), as one table. The AI
 * module's paths (`/ai/...`, D17) are deliberately absent: they fall to the 404 handler, whatever
 * the token, and the client tolerates that.
 */
export const legacyRoutes: readonly LegacyRoute[] = [
  ...authRoutes,
  ...contactRoutes,
  ...sessionRoutes,
  ...messageRoutes,
  ...groupRoutes,
  ...approvalRoutes,
];

/**
 * Registers CORS, the route table, the upload and the static files. Call it on the root instance
 * before other routes and plugins, so that every path (tRPC included) gets the CORS headers and
 * preflight answers.
 */
export async function registerLegacyRoutes(app: FastifyInstance, domain: DomainContext, options: LegacyOptions): Promise<void> {
  await registerCors(app);
  const env: RouteEnv = { domain, log: app.log };
  const callers = new WeakMap<FastifyRequest, Caller>();

  // The JWT check runs on onRequest, before the body is parsed, as the gin middleware ran before binding.
  const requireToken = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      callers.set(request, await authenticate(domain, request));
    } catch (error) {
      return replyFailure(request, reply, error);
    }
  };

  // A scope of their own, with the legacy error handler set before any route: a route keeps the
  // handler its scope has when the route is added (installErrorHandlers runs later, on the root).
  await app.register(async (scope) => {
    scope.setErrorHandler(legacyErrorHandler);
    for (const r of legacyRoutes) {
      scope.route({
        method: r.method,
        url: r.path,
        ...(r.public ? {} : { onRequest: requireToken }),
        handler: async (request, reply) => {
          try {
            const routeEnv: RouteEnv = r.public ? { ...env, admitAuth: (kind, username) => options.limiters.admitAuth(request, reply, kind, username) } : env;
            const out = await r.run(routeEnv, request.body, callers.get(request));
            return r.raw ? out : success(out);
          } catch (error) {
            return replyFailure(request, reply, error);
          }
        },
      });
    }
    await registerUploads(
      scope,
      { dir: options.uploadDir, maxBytes: options.uploadMaxBytes ?? DEFAULT_UPLOAD_MAX_BYTES, limiters: options.limiters },
      requireToken,
      (request) => callers.get(request),
    );
  });
}
