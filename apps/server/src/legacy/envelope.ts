import { AppError, asAppError, BAD_PARAMS_MESSAGE, ERROR_TABLE, INTERNAL_MESSAGE } from "@omnilink/domain";
import type { FastifyReply, FastifyRequest } from "fastify";
import { RetryLater } from "../limits.js";

/** The legacy response body: `data` is left out when there is none. */
export interface Envelope {
  code: number;
  message: string;
  data?: unknown;
}

export const success = (data?: unknown): Envelope =>
  data === undefined ? { code: 200, message: "Success" } : { code: 200, message: "Success", data };

/** A request body the legacy server could not bind: answered with HTTP 400 (legacy-contract §1.2). */
export class BindError extends Error {
  constructor() {
    super(BAD_PARAMS_MESSAGE);
  }
}

/**
 * What a legacy client is told about a failure, in the body of a REST answer and in the /wss error
 * frame alike: the legacy code of a known error with its (user-facing) message, else 500 with the
 * generic text. `unexpected` marks the failures worth logging as errors.
 */
export function legacyError(error: unknown): { code: number; message: string; unexpected: boolean } {
  if (error instanceof BindError) return { code: 400, message: BAD_PARAMS_MESSAGE, unexpected: false };
  const known = asAppError(error);
  if (!known || known.kind === "INTERNAL") return { code: 500, message: INTERNAL_MESSAGE, unexpected: true };
  return { code: ERROR_TABLE[known.kind].legacy, message: known.message, unexpected: false };
}

/**
 * Business errors travel in the body with HTTP 200, as the client reads `code`; a missing or bad
 * token is HTTP 401 (legacy-contract D1) so the client's "session expired" redirect works, and a
 * body that does not bind is HTTP 400 (legacy-contract §1.2).
 */
export function failure(error: unknown): { status: number; body: Envelope; unexpected: boolean } {
  const { code, message, unexpected } = legacyError(error);
  const status = error instanceof BindError ? 400 : asAppError(error)?.kind === "UNAUTHORIZED" ? 401 : 200;
  return { status, body: { code, message }, unexpected };
}

/** Answers `error` with the legacy envelope (logging the unexpected ones). */
export function replyFailure(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const { status, body, unexpected } = failure(error);
  if (error instanceof RetryLater) reply.header("retry-after", String(error.retryAfterSeconds));
  if (unexpected) request.log.error({ err: error }, "legacy route failed");
  // Answered as 参数错误, but a value the schemas let through to the database is worth knowing about.
  else if (!(error instanceof AppError) && !(error instanceof BindError)) request.log.warn({ err: error }, "legacy input refused by the database");
  return reply.code(status).send(body);
}
