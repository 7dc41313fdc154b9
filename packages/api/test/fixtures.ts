import { getProfile, type DomainContext } from "@omnilink/domain";
import { TRPCError } from "@trpc/server";
import { newUser } from "../../domain/test/helpers.js";
import { createApiContext } from "../src/context.js";
import { createCaller } from "../src/root.js";

export type Caller = ReturnType<typeof createCaller>;

/** A registered user, its token, and a router caller whose identity comes from that token only. */
export interface Actor {
  uuid: string;
  token: string;
  api: Caller;
}

/** A caller built the way the HTTP/WS adapters build one: from a bearer token (or none). */
export async function callerFor(ctx: DomainContext, token: string | null): Promise<Caller> {
  return createCaller(await createApiContext(ctx, token));
}

/** Signs a fresh token for the user: another device of the same account. */
export async function signToken(ctx: DomainContext, uuid: string): Promise<string> {
  const profile = await getProfile(ctx, uuid);
  if (!profile) throw new Error(`user ${uuid} vanished`);
  return ctx.tokens.sign({ uuid, username: profile.username });
}

export async function newActor(ctx: DomainContext, name: string): Promise<Actor> {
  const uuid = await newUser(ctx, name);
  const token = await signToken(ctx, uuid);
  return { uuid, token, api: await callerFor(ctx, token) };
}

/** The tRPC code a call failed with; fails the test if it succeeded or failed with something else. */
export async function trpcCode(call: Promise<unknown>): Promise<TRPCError["code"]> {
  const error = await call.then(
    (value: unknown) => {
      throw new Error(`expected a refusal, got success: ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error.code;
}
