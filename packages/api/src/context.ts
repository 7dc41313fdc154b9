import type { DomainContext } from "@omnilink/domain";
import type { ApiContext, AuthAdmission } from "./trpc.js";

/** Builds the per-request (HTTP) or per-connection (WebSocket) context from a bearer token. */
export async function createApiContext(domain: DomainContext, token: string | null | undefined, admitAuth?: AuthAdmission): Promise<ApiContext> {
  const base = admitAuth ? { domain, admitAuth } : { domain };
  if (!token) return { ...base, user: null };
  try {
    return { ...base, user: await domain.tokens.verify(token) };
  } catch {
    return { ...base, user: null };
  }
}

/** `Bearer <token>` (case-sensitive, one space), as the legacy middleware required. */
export function bearerToken(header: string | undefined): string | null {
  return header?.startsWith("Bearer ") ? header.slice(7).trim() || null : null;
}
