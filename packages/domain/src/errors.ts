import { isDataException } from "@omnilink/db";

/**
 * The one error vocabulary. Every transport maps a kind through ERROR_TABLE: the tRPC code (tRPC
 * derives its HTTP status from it) and the numeric `code` of the legacy envelope (legacy routes
 * answer HTTP 200, 401 for UNAUTHORIZED: legacy-contract §1.2, D1). Messages are user-facing (the
 * legacy client shows them verbatim), so they are the legacy texts where one exists.
 */
export type ErrorKind =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "RATE_LIMITED"
  | "INTERNAL";

export const ERROR_TABLE = {
  BAD_REQUEST: { trpc: "BAD_REQUEST", legacy: 400 },
  UNAUTHORIZED: { trpc: "UNAUTHORIZED", legacy: 401 },
  FORBIDDEN: { trpc: "FORBIDDEN", legacy: 403 },
  NOT_FOUND: { trpc: "NOT_FOUND", legacy: 404 },
  // The legacy backend reported conflicts ("用户已存在", "已在群聊中") as 400.
  CONFLICT: { trpc: "CONFLICT", legacy: 400 },
  PAYLOAD_TOO_LARGE: { trpc: "PAYLOAD_TOO_LARGE", legacy: 400 },
  RATE_LIMITED: { trpc: "TOO_MANY_REQUESTS", legacy: 429 },
  INTERNAL: { trpc: "INTERNAL_SERVER_ERROR", legacy: 500 },
} as const satisfies Record<ErrorKind, { trpc: string; legacy: number }>;

export const INTERNAL_MESSAGE = "系统错误，请联系工作人员";
export const BAD_PARAMS_MESSAGE = "参数错误";

export class AppError extends Error {
  override readonly name = "AppError";
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const badRequest = (message: string = BAD_PARAMS_MESSAGE) => new AppError("BAD_REQUEST", message);
export const unauthorized = (message = "invalid token") => new AppError("UNAUTHORIZED", message);
export const forbidden = (message: string) => new AppError("FORBIDDEN", message);
export const notFound = (message: string) => new AppError("NOT_FOUND", message);
export const conflict = (message: string) => new AppError("CONFLICT", message);

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/**
 * The AppError an error stands for, or undefined when it is a failure of ours. A value the
 * database refused (SQLSTATE class 22: NUL, an encoding error, a value too long or out of range)
 * came from the request: the input schemas should have caught it, yet it is still the caller's
 * bad input, so every transport answers it as 400 参数错误, never as an internal error.
 */
export function asAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (isDataException(error)) return new AppError("BAD_REQUEST", BAD_PARAMS_MESSAGE, { cause: error });
  return undefined;
}
