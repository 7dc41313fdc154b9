import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";

/**
 * gin-contrib/cors as the legacy server set it (legacy-contract §1.1): any origin, no credentials,
 * 12 h preflight cache. A preflight is answered 204 on every path, unknown ones included, and
 * also without the Origin / Access-Control-Request-Method headers (not strict), before any
 * authentication. Register it on the root instance before the other routes and plugins: an
 * encapsulated scope only inherits the hooks its parent had when the scope was created.
 */
export async function registerCors(app: FastifyInstance): Promise<void> {
  await app.register(cors, {
    origin: "*",
    methods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    allowedHeaders: ["Origin", "Content-Length", "Content-Type", "Authorization"],
    credentials: false,
    maxAge: 12 * 60 * 60,
    strictPreflight: false,
    optionsSuccessStatus: 204,
  });
}
