import { AppError, authenticateToken, type DomainContext } from "@omnilink/domain";
import type { ApiContext, AuthAdmission, SocketState } from "./trpc.js";

/**
 * Builds the per-request (HTTP) or per-connection (WebSocket, with its `socket` state) context from
 * a bearer token (a disabled user's is no caller, legacy-contract D38); `admitAuth` is the
 * transport's limit on login and register attempts.
 */
export async function createApiContext(
  domain: DomainContext,
  token: string | null | undefined,
  options: { socket?: SocketState; admitAuth?: AuthAdmission } = {},
): Promise<ApiContext> {
  const base = { domain, ...(options.socket ? { socket: options.socket } : {}), ...(options.admitAuth ? { admitAuth: options.admitAuth } : {}) };
  if (!token) return { ...base, user: null };
  try {
    const { identity, expiresAt } = await authenticateToken(domain, token);
    return { ...base, user: identity, expiresAt };
  } catch (error) {
    // A refused token is no caller; a failure of ours (the database) is not an answer about the token.
    if (error instanceof AppError && error.kind === "UNAUTHORIZED") return { ...base, user: null };
    throw error;
  }
}

/** `Bearer <token>` (case-sensitive, one space), as the legacy middleware required. */
export function bearerToken(header: string | undefined): string | null {
  return header?.startsWith("Bearer ") ? header.slice(7).trim() || null : null;
}
