import { createTestDb, type TestDb } from "@omnilink/db/testing";
import { register } from "../src/auth/accounts.js";
import { createTokenService } from "../src/auth/tokens.js";
import type { DomainContext, Limits } from "../src/context.js";
import { createDomain } from "../src/create.js";

/** Cheap hashing keeps suites fast; the production cost is tested in password.test.ts. */
export const TEST_SCRYPT_COST = { N: 1024, r: 8, p: 1 };

export interface TestContext {
  ctx: DomainContext;
  testDb: TestDb;
  /** Stops the dispatcher and drops the database. */
  dispose(): Promise<void>;
}

/** A domain context on a fresh database of its own (PGlite, or PostgreSQL when DATABASE_URL is set). */
export async function createTestContext(limits: Partial<Limits> = {}): Promise<TestContext & { ctx: DomainContext }> {
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

let counter = 0;
/** Registers a user with a unique name; returns its uuid. */
export async function newUser(ctx: DomainContext, name = "user"): Promise<string> {
  counter++;
  const username = `${name}_${counter}_${Math.random().toString(36).slice(2, 6)}`.slice(0, 20);
  const { user } = await register(ctx, { username, password: "secret123", nickname: `${name}${counter}`.slice(0, 20) });
  return user.uuid;
}
