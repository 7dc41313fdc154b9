import { createTestDb, type TestDb } from "@omnilink/db/testing";
import { afterAll, beforeAll, expect } from "vitest";
import { register } from "../src/auth/accounts.js";
import { createTokenService } from "../src/auth/tokens.js";
import type { DomainContext, Limits } from "../src/context.js";
import { createDomain } from "../src/create.js";
import { AppError, type ErrorKind } from "../src/errors.js";

/** Cheap hashing keeps suites fast; the production cost is tested in password.test.ts. */
export const TEST_SCRYPT_COST = { N: 1024, r: 8, p: 1 };

export interface TestContext {
  ctx: DomainContext;
  testDb: TestDb;
  /** Stops the dispatcher and drops the database. */
  dispose(): Promise<void>;
}

/** A domain context on a fresh database of its own (PGlite, or PostgreSQL when DATABASE_URL is set). */
export async function createTestContext(limits: Partial<Limits> = {}): Promise<TestContext> {
  const testDb = await createTestDb();
  const tokens = createTokenService({ secret: "test-secret-0123456789abcdef0123456789", issuer: "OmniLink", expireHours: 24 });
  const ctx = await createDomain({ db: testDb.db, tokens, scryptCost: TEST_SCRYPT_COST, limits });
  return {
    ctx,
    testDb,
    dispose: async () => {
      await ctx.stop();
      await testDb.dispose();
    },
  };
}

/**
 * One test context for the enclosing suite: created in beforeAll, disposed in afterAll.
 * Read `.ctx` inside tests and hooks only; it does not exist while the file is being collected.
 */
export function useTestContext(limits: Partial<Limits> = {}): { readonly ctx: DomainContext } {
  let current: TestContext | undefined;
  beforeAll(async () => {
    current = await createTestContext(limits);
  });
  afterAll(async () => {
    await current?.dispose();
    current = undefined;
  });
  return {
    get ctx() {
      if (!current) throw new Error("useTestContext: the context exists only inside tests and hooks");
      return current.ctx;
    },
  };
}

let counter = 0;
/** Registers a user with a unique name; returns its uuid. */
export async function newUser(ctx: DomainContext, name = "user"): Promise<string> {
  counter++;
  const username = `${name}_${counter}_${Math.random().toString(36).slice(2, 6)}`.slice(0, 20);
  const { user } = await register(ctx, { username, password: "secret123", nickname: `${name}${counter}`.slice(0, 20) });
  return user.uuid;
}

/** Registers `count` users one after the other, all named after `name`; returns their uuids in order. */
export async function newUsers(ctx: DomainContext, count: number, name = "user"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await newUser(ctx, name));
  return ids;
}

/** Registers one user per name, in order; returns their uuids keyed by those names. */
export async function namedUsers<const K extends string>(ctx: DomainContext, ...names: K[]): Promise<Record<K, string>> {
  const ids = {} as Record<K, string>;
  for (const name of names) ids[name] = await newUser(ctx, name);
  return ids;
}

/** Expects the promise to reject with an AppError, and returns that error. */
export async function rejectionOf(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected the promise to reject with an AppError").toBeInstanceOf(AppError);
  return error as AppError;
}

/** Expects the promise to reject with an AppError of this kind (and, when given, this exact message); returns it. */
export async function expectAppError(p: Promise<unknown>, kind: ErrorKind, message?: string): Promise<AppError> {
  const error = await rejectionOf(p);
  if (message === undefined) expect(error.kind).toBe(kind);
  else expect({ kind: error.kind, message: error.message }).toEqual({ kind, message });
  return error;
}
