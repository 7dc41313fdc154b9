import { createTestDb } from "@omnilink/db/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import * as domain from "../src/index.js";
import { asAppError, idList, inviteMembersInput, MAX_CONTENT_UNITS, MAX_LISTED_IDS, publicIdText, storableText } from "../src/index.js";

/* The input rule at the boundary: what every shared schema refuses, and where each maximum lies. */

type Def = { type: string; shape?: Record<string, unknown>; innerType?: unknown; in?: unknown };
type Inspectable = { _zod?: { def: Def } } | undefined;

/** The schema under optional/default/nullable/catch/pipe wrappers. */
function core(schema: unknown): Def | undefined {
  let current = schema as Inspectable;
  for (let depth = 0; depth < 8 && current?._zod; depth++) {
    const def = current._zod.def;
    if (!def.innerType && !def.in) return def;
    current = (def.innerType ?? def.in) as Inspectable;
  }
  return undefined;
}

/** Every exported `…Input` schema of the domain with its text and list fields. */
const inputSchemas = Object.entries(domain).flatMap(([name, value]) => {
  if (!name.endsWith("Input")) return [];
  const object = core(value);
  if (object?.type !== "object") return [];
  const fields = Object.entries(object.shape ?? {}).flatMap(([key, field]) => {
    const type = core(field)?.type;
    return type === "string" || type === "array" ? [{ key, type }] : [];
  });
  return [{ name, schema: value as z.ZodType, fields }];
});

const issuesAt = (schema: z.ZodType, key: string, value: unknown) => {
  const result = schema.safeParse({ [key]: value });
  return result.success ? [] : result.error.issues.filter((i) => i.path[0] === key);
};

const HOSTILE: ReadonlyArray<readonly [string, unknown]> = [
  ["NUL", "a\u0000b"],
  ["a lone high surrogate", "a\ud800"],
  ["a lone low surrogate", "\udc00b"],
  // Longer than any text field takes (message content, the longest, stops at MAX_CONTENT_UNITS).
  ["a string past every maximum", "x".repeat(MAX_CONTENT_UNITS + 1)],
  ["70,000 items", Array.from({ length: 70_000 }, (_, i) => `U${i}`)],
  ["70,000 items holding NUL", Array.from({ length: 70_000 }, () => "\u0000")],
];

describe("every shared input schema", () => {
  it("is found (the walk below covers new schemas by itself)", () => {
    expect(inputSchemas.map((s) => s.name)).toEqual(expect.arrayContaining(["sendMessageInput", "createGroupInput", "applyContactInput", "loginInput"]));
    expect(inputSchemas.length).toBeGreaterThan(20);
    expect(inputSchemas.flatMap((s) => s.fields).length).toBeGreaterThan(40);
  });

  it("refuses NUL, lone surrogates, over-long strings and over-long lists in every text and list field", () => {
    const passed: string[] = [];
    for (const { name, schema, fields } of inputSchemas) {
      for (const { key } of fields) {
        for (const [label, value] of HOSTILE) {
          if (issuesAt(schema, key, value).length === 0) passed.push(`${name}.${key} accepted ${label}`);
        }
      }
    }
    expect(passed).toEqual([]);
  });
});

describe("storableText", () => {
  const text = storableText(5);

  it("keeps text the database stores as given: surrogate pairs (emoji), CJK, up to the maximum", () => {
    expect(text.parse("😀")).toBe("😀");
    expect(text.parse("群聊名称")).toBe("群聊名称");
    expect(text.parse("abcde")).toBe("abcde");
  });

  it("refuses NUL, lone or reversed surrogates and one unit past the maximum", () => {
    for (const bad of ["a\u0000", "\ud83d", "\ude00", "\ude00\ud83d", "abcdef"]) expect(text.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it("trims before the length checks when asked, with the given messages", () => {
    const name = storableText(3, { trim: true, min: 1, tooShort: "空", tooLong: "长" });
    expect(name.parse("  abc  ")).toBe("abc");
    expect(name.safeParse("   ").error?.issues[0]?.message).toBe("空");
    expect(name.safeParse("abcd").error?.issues[0]?.message).toBe("长");
  });
});

describe("message content", () => {
  it(`is bounded by the schema at ${MAX_CONTENT_UNITS} UTF-16 units (the byte limit is checked when sending)`, () => {
    const send = (content: string) => domain.sendMessageInput.safeParse({ receiveId: "G1", content }).success;
    expect(send("x".repeat(MAX_CONTENT_UNITS))).toBe(true);
    expect(send("x".repeat(MAX_CONTENT_UNITS + 1))).toBe(false);
  });
});

describe("ids", () => {
  it("a public id is 1-20 printable ASCII characters", () => {
    const id = publicIdText();
    expect(id.parse(" G0123456789a ")).toBe("G0123456789a");
    expect(id.parse("U1234567890123456789")).toHaveLength(20);
    for (const bad of ["", "   ", "U12345678901234567890", "U 1", "Ü1", "U\u0000", "U\ud800"]) expect(id.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it(`a request lists at most ${MAX_LISTED_IDS} ids`, () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `U${i}`);
    expect(idList().parse(ids(MAX_LISTED_IDS))).toHaveLength(MAX_LISTED_IDS);
    expect(idList().safeParse(ids(MAX_LISTED_IDS + 1)).success).toBe(false);
    expect(inviteMembersInput.safeParse({ groupId: "G1", memberIds: ids(MAX_LISTED_IDS) }).success).toBe(true);
    expect(inviteMembersInput.safeParse({ groupId: "G1", memberIds: ids(MAX_LISTED_IDS + 1) }).success).toBe(false);
  });
});

describe("asAppError", () => {
  it("turns a value the database refuses into 400 参数错误, and leaves other failures alone", async () => {
    const db = await createTestDb();
    try {
      const refused = await db.db.execute(sql`select ${"a\u0000b"}::text`).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeDefined();
      expect(asAppError(refused)).toMatchObject({ kind: "BAD_REQUEST", message: "参数错误" });

      const broken = await db.db.execute(sql`select * from no_such_table`).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(broken).toBeDefined();
      expect(asAppError(broken)).toBeUndefined();
    } finally {
      await db.dispose();
    }
  });
});
