import { badRequest, login, loginInput, register, registerInput, type DomainContext } from "@omnilink/domain";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { BindError, failure, success } from "./envelope.js";
import { toLoginData } from "./users.js";

interface LegacyRoute {
  path: string;
  /** Binds and runs the request; returns the envelope's `data` (undefined: omitted). */
  run(ctx: DomainContext, body: unknown): Promise<unknown>;
}

/**
 * `bind` is the shape the body must have, like gin's BindJSON: a body that does not bind is
 * HTTP 400 参数错误. `rules` are checked next; their failures are business errors (HTTP 200,
 * code 400) carrying the first rule's message, which the client shows.
 */
function route<B extends z.ZodType, R extends z.ZodType = B>(def: {
  path: string;
  bind: B;
  rules?: R;
  handle(ctx: DomainContext, input: z.infer<R>): Promise<unknown>;
}): LegacyRoute {
  return {
    path: def.path,
    async run(ctx, body) {
      const bound = def.bind.safeParse(body);
      if (!bound.success) throw new BindError();
      const checked = (def.rules ?? def.bind).safeParse(bound.data);
      if (!checked.success) throw badRequest(checked.error.issues[0]?.message);
      return def.handle(ctx, checked.data as z.infer<R>);
    },
  };
}

const routes: LegacyRoute[] = [
  route({
    path: "/login",
    bind: loginInput,
    handle: async (ctx, input) => toLoginData(await login(ctx, input)),
  }),
  route({
    path: "/register",
    // The legacy binding has no rules (empty strings bind); ours then answer with a clear message.
    bind: z.object({ username: z.string().default(""), password: z.string().default(""), nickname: z.string().default("") }),
    rules: registerInput,
    handle: async (ctx, input) => toLoginData(await register(ctx, input)),
  }),
];

export function registerLegacyRoutes(app: FastifyInstance, ctx: DomainContext): void {
  for (const r of routes) {
    app.post(r.path, async (request, reply) => {
      try {
        return success(await r.run(ctx, request.body));
      } catch (error) {
        const { status, body, unexpected } = failure(error);
        if (unexpected) request.log.error({ err: error }, "legacy route failed");
        return reply.code(status).send(body);
      }
    });
  }
}
