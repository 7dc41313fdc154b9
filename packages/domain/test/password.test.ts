import { describe, expect, it } from "vitest";
import { DEFAULT_SCRYPT_COST, hashPassword, verifyPassword } from "../src/auth/password.js";

describe("password hashing", () => {
  it("never stores the password and verifies only the right one (production cost)", async () => {
    const hash = await hashPassword("correct horse");
    expect(hash).not.toContain("correct horse");
    expect(hash.startsWith(`scrypt$${DEFAULT_SCRYPT_COST.N}$${DEFAULT_SCRYPT_COST.r}$${DEFAULT_SCRYPT_COST.p}$`)).toBe(true);
    expect(await verifyPassword("correct horse", hash)).toBe(true);
    expect(await verifyPassword("correct horsf", hash)).toBe(false);
  });

  it("salts: the same password hashes differently each time", async () => {
    const cost = { N: 1024, r: 8, p: 1 };
    expect(await hashPassword("pw123456", cost)).not.toBe(await hashPassword("pw123456", cost));
  });

  it("rejects malformed stored hashes instead of throwing", async () => {
    expect(await verifyPassword("x", "plaintext")).toBe(false);
    expect(await verifyPassword("x", "scrypt$0$8$1$aa$bb")).toBe(false);
  });
});
