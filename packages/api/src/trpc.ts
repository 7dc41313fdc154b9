import { AppError, asAppError, ERROR_TABLE, INTERNAL_MESSAGE, type DomainContext, type Identity } from "@omnilink/domain";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";

/**
 * Asked before a login or register runs; throws RATE_LIMITED when the client or the account is
 * over its limit. The caller reports a success on the attempt it returns (the transport may then
 * remember the client as one that has signed in to the account before).
 */
export type AuthAdmission = (kind: "login" | "register", username: string) => Promise<AuthAttempt>;

export interface AuthAttempt {
  succeeded(): void;
}

export interface ApiContext {
  domain: DomainContext;
  /** The caller, from a verified token; null when none or invalid was sent. */
  user: Identity | null;
  /** The transport's limit on login and register attempts (none for in-process callers). */
  admitAuth?: AuthAdmission;
  /** When the caller's token expires (ms since the epoch): a WebSocket's context outlives its handshake. */
  expiresAt?: number;
  /** Present when the call came over a WebSocket: one object per connection, shared by its calls. */
  socket?: SocketState;
}

export interface SocketState {
  /** Live subscriptions the connection holds now. */
  subscriptions: number;
  /** How many it may hold at once. */
  maxSubscriptions: number;
}

const t = initTRPC.context<ApiContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const zod = error.cause instanceof ZodError ? error.cause : undefined;
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    return {
      ...shape,
      // Internal failures never leak their text; validation failures say what is wrong.
      message: internal ? INTERNAL_MESSAGE : (zod?.issues[0]?.message ?? shape.message),
      data: {
        ...shape.data,
        stack: undefined,
        appCode: error.cause instanceof AppError ? error.cause.kind : internal ? "INTERNAL" : undefined,
        issues: zod?.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      },
    };
  },
});

/**
 * Domain errors (and values the database refused, see asAppError) become tRPC errors with the
 * code of ERROR_TABLE. Anything else stays INTERNAL_SERVER_ERROR; the transport's onError logs it
 * once (apps/server/src/trpc.ts), with the failures outside procedures.
 */
const errorMapping = t.middleware(async ({ next, ctx, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    const known = asAppError(cause);
    if (known) {
      if (!(cause instanceof AppError)) ctx.domain.log.warn({ err: cause, path }, "input refused by the database");
      throw new TRPCError({ code: ERROR_TABLE[known.kind].trpc, message: known.message, cause: known });
    }
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(errorMapping);

/** The token has expired since the context was made (only a WebSocket's context lives that long). */
const tokenExpired = (ctx: ApiContext): boolean => ctx.expiresAt !== undefined && ctx.expiresAt <= Date.now();

/** The caller's identity comes from the token only; handlers read it from ctx.user. */
export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "missing or invalid authorization header" });
  if (tokenExpired(ctx)) throw new TRPCError({ code: "UNAUTHORIZED", message: "token expired" });
  return next({ ctx: { ...ctx, user: ctx.user } });
});
