import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestDb, type TestDb } from "@omnilink/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveJwtSecret } from "../src/secret.js";
import { tempDir } from "./helpers.js";

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(() => db.dispose());

describe("the JWT secret when JWT_SECRET is not set", () => {
  it("is one secret for every node of a database, whatever their data folders, even when they start together", async () => {
    using one = tempDir();
    using two = tempDir();
    using three = tempDir();
    const results = await Promise.all([one, two, three].map((dir) => resolveJwtSecret(undefined, dir.path, db.db)));
    const secrets = new Set(results.map((r) => r.secret));
    expect(secrets.size).toBe(1);
    expect(results.filter((r) => r.source === "generated")).toHaveLength(1);
    const [secret] = [...secrets];
    expect(secret!.length).toBeGreaterThanOrEqual(32);
    // Each node mirrors it to its data folder, readable by its owner only.
    for (const dir of [one, two, three]) {
      expect(readFileSync(join(dir.path, "jwt-secret"), "utf8")).toBe(secret);
      expect(statSync(join(dir.path, "jwt-secret")).mode & 0o077).toBe(0);
    }
    // A node that had its own secret file (an earlier version) adopts the database's.
    using four = tempDir();
    writeFileSync(join(four.path, "jwt-secret"), "an-older-per-node-secret-000000000");
    expect(await resolveJwtSecret(undefined, four.path, db.db)).toEqual({ secret, source: "database" });
    expect(readFileSync(join(four.path, "jwt-secret"), "utf8")).toBe(secret);
    // JWT_SECRET, when set, is used as it is.
    expect(await resolveJwtSecret("configured-secret-0123456789", four.path, db.db)).toEqual({ secret: "configured-secret-0123456789", source: "env" });
  });
});
