import { authenticateToken, unauthorized, type DomainContext } from "@omnilink/domain";
import type { FastifyRequest } from "fastify";
import type { Caller } from "./route.js";

const PREFIX = "Bearer ";

/**
 * The legacy JWT middleware (legacy-contract §1.4): the header must start with exactly "Bearer " (case
 * and one space), then the token must verify. Failures are UNAUTHORIZED, answered HTTP 401 with
 * the legacy envelope (legacy-contract D1). Unlike the legacy middleware, the user must still be
 * enabled (legacy-contract D38): one rule for every transport, in the domain.
 */
export async function authenticate(domain: DomainContext, request: FastifyRequest): Promise<Caller> {
  const header = request.headers.authorization;
  if (typeof header !== "string" || !header.startsWith(PREFIX)) throw unauthorized("missing or invalid authorization header");
  return (await authenticateToken(domain, header.slice(PREFIX.length))).identity;
}
