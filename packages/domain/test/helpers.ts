import { createTestDb, type TestDb } from "@omnilink/db/testing";
import { createTokenService } from "../src/auth/tokens.js";
import type { DomainContext } from "../src/context.js";

/** Cheap hashing keeps suites fast; the production cost is tested in password.test.ts. */
export const TEST_SCRYPT_COST = { N: 1024, r: 8, p: 1 };

export async function createTestContext(): Promise<{ ctx: DomainContext; testDb: TestDb }> {
  const testDb = await createTestDb();
  const tokens = createTokenService({ secret: "test-secret-0123456789abcdef0123456789", issuer: "OmniLink", expireHours: 24 });
  return { testDb, ctx: { db: testDb.db, tokens, scryptCost: TEST_SCRYPT_COST } };
}
