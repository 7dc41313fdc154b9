import { unauthorized, type TokenService } from "@omnilink/domain";
import type { FastifyRequest } from "fastify";
import type { Caller } from "./route.js";

const PREFIX = "Bearer ";

/**
 * The legacy JWT middleware (legacy-contract §1.4): the header must start with exactly "Bearer " (case
 * and one space), then the token must verify. Failures are UNAUTHORIZED, answered HTTP 401 with
 * the legacy envelope (legacy-contract D1). Like the legacy middleware it does not look the user up.
 */
export async function authenticate(tokens: TokenService, request: FastifyRequest): Promise<Caller> {
  const header = request.headers.authorization;
  if (typeof header !== "string" || !header.startsWith(PREFIX)) throw unauthorized("missing or invalid authorization header");
  return tokens.verify(header.slice(PREFIX.length));
}
