import type { AuthAdmission } from "@omnilink/api";
import { badRequest, forbidden, type DomainContext, type Identity, type Logger } from "@omnilink/domain";
import { z } from "zod";
import { BindError } from "./envelope.js";

/** What a handler gets besides its input. */
export interface RouteEnv {
  domain: DomainContext;
  log: Logger;
  /** On public routes: the limit on login and register attempts of this request's client. */
  admitAuth?: AuthAdmission;
}

/** The caller, from the token only (legacy-contract §1.4-§1.5). */
export type Caller = Identity;

/** Body fields that name the caller: empty or equal to the token's uuid, else 403 "<field> 不匹配" (legacy-contract §1.5). */
type IdentityField = "owner_id" | "send_id" | "user_one_id";

export interface LegacyRoute {
  method: "GET" | "POST";
  path: string;
  /** Public routes (/login, /register) skip the JWT check. */
  public: boolean;
  /** The result is the response body itself, not the envelope's `data` (GET /auth/ping). */
  raw: boolean;
  /** The body's shape as bound (its keys are the fields a client may send). */
  bind: z.ZodType;
  /** Binds and runs the request; returns the envelope's `data` (undefined: omitted). */
  run(env: RouteEnv, body: unknown, caller: Caller | undefined): Promise<unknown>;
}

/*
 * Binding helpers with gin's BindJSON semantics: a wrong JSON type is a bind failure (HTTP 400
 * 参数错误), a missing key or `null` is the Go zero value, unknown keys are ignored.
 */
export const str = z
  .string()
  .nullish()
  .transform((v) => v ?? "");
export const int = z
  .number()
  .int()
  .nullish()
  .transform((v) => v ?? 0);
export const strList = z
  .array(str)
  .nullish()
  .transform((v) => v ?? []);
/** `binding:"required"` on a string: present and non-empty. */
export const requiredStr = z.string().min(1);
/** `binding:"required,min=1"` on a list. */
export const requiredList = z.array(str).min(1);

interface RouteDef<B extends z.ZodType, R extends z.ZodType> {
  path: string;
  method?: "GET" | "POST";
  raw?: boolean;
  /** The body's shape, like the Go request struct: a body that does not bind is HTTP 400 参数错误. */
  bind: B;
  /** Body field that must be empty or the caller's uuid (checked right after binding, as the legacy handlers did). */
  identity?: IdentityField;
  /** Renames the bound body into the domain's input (snake_case → camelCase). */
  map?: (bound: z.output<B>) => z.input<R>;
  /** The domain's input schema: failures are business errors (HTTP 200, code 400) with its first message. */
  rules?: R;
}

function runner<B extends z.ZodType, R extends z.ZodType>(def: RouteDef<B, R>) {
  return (body: unknown, caller: Caller | undefined): z.output<R> => {
    // Go decodes a JSON `null` body into the zero struct.
    const bound = def.bind.safeParse(body === null ? {} : body);
    if (!bound.success) throw new BindError();
    if (def.identity && caller) {
      const claimed = (bound.data as Record<string, unknown>)[def.identity];
      if (typeof claimed === "string" && claimed !== "" && claimed !== caller.uuid) throw forbidden(`${def.identity} 不匹配`);
    }
    const mapped: unknown = def.map ? def.map(bound.data) : bound.data;
    if (!def.rules) return mapped as z.output<R>;
    const checked = def.rules.safeParse(mapped);
    if (!checked.success) throw badRequest(checked.error.issues[0]?.message);
    return checked.data;
  };
}

/** A route behind the JWT check: `handle` gets the caller from the token. */
export function route<B extends z.ZodType, R extends z.ZodType = B>(
  def: RouteDef<B, R> & { handle(env: RouteEnv, input: z.output<R>, caller: Caller): Promise<unknown> },
): LegacyRoute {
  const prepare = runner(def);
  return {
    method: def.method ?? "POST",
    path: def.path,
    public: false,
    raw: def.raw ?? false,
    bind: def.bind,
    async run(env, body, caller) {
      if (!caller) throw new Error(`${def.path}: authenticated route reached without a caller`);
      return def.handle(env, prepare(body, caller), caller);
    },
  };
}

/** A route without the JWT check (/login, /register). */
export function publicRoute<B extends z.ZodType, R extends z.ZodType = B>(
  def: RouteDef<B, R> & { handle(env: RouteEnv, input: z.output<R>): Promise<unknown> },
): LegacyRoute {
  const prepare = runner(def);
  return {
    method: def.method ?? "POST",
    path: def.path,
    public: true,
    raw: def.raw ?? false,
    bind: def.bind,
    async run(env, body) {
      return def.handle(env, prepare(body, undefined));
    },
  };
}
