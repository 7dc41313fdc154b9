import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
/** Where rules live: the access module names them, the schema defines the enums. */
const ALLOWED = ["packages/domain/src/access.ts", "packages/db/src/schema/"];
const SOURCES = ["packages/db/src", "packages/domain/src", "packages/api/src", "apps/server/src", "apps/console/src"];

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ts|tsx)$/.test(name)) yield path;
  }
}

/** A status compared with a number literal, either way round, or a list of numeric statuses. */
const NUMERIC_STATUS = [
  /\w*[sS]tatus\b\)?\s*(===|!==|==|!=|<=|>=|<|>)\s*\d/,
  /\b\d+\s*(===|!==|==|!=)\s*[\w.]*[sS]tatus\b/,
  /[sS]tatus\w*\s*,\s*\[\s*\d/,
  /[sS]tatus\s*(between|in)\s*\(?\s*\d/,
  // The same rules under other names: a membership or friend row's status held in a variable.
  /\b(member|membership|friend|friendship)\w*\s*(===|!==|==|!=)\s*\d/,
];

describe("access rules have one place", () => {
  it("no code outside the access module and the schema compares a status with a number", () => {
    const offenders: string[] = [];
    for (const source of SOURCES) {
      for (const path of files(join(root, source))) {
        const rel = relative(root, path);
        if (ALLOWED.some((a) => rel.startsWith(a))) continue;
        readFileSync(path, "utf8")
          .split("\n")
          .forEach((line, i) => {
            const code = line.replace(/\/\/.*$/, "").replace(/^\s*\*.*$/, "");
            if (NUMERIC_STATUS.some((re) => re.test(code))) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(offenders).toEqual([]);
  });

  it("the check catches what it is meant to catch", () => {
    for (const line of ["if (m.status !== 0) throw x;", "if (0 === row.memberStatus)", "inArray(contacts.status, [0, 5])", "head.groupStatus !== 0"]) {
      expect(NUMERIC_STATUS.some((re) => re.test(line)), line).toBe(true);
    }
    expect(NUMERIC_STATUS.some((re) => re.test("if (!isUsableAccount(row.status)) throw x;"))).toBe(false);
  });
});
