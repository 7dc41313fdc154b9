import { describe, expect, it } from "vitest";
import { isGroupId, newId, privateConversationId } from "../src/ids.js";

describe("ids", () => {
  it.each(["U", "G", "S", "M", "A"] as const)("%s ids are the prefix and 11 base62 characters", (prefix) => {
    for (let i = 0; i < 200; i++) expect(newId(prefix)).toMatch(new RegExp(`^${prefix}[0-9A-Za-z]{11}$`));
  });

  it("does not repeat", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId("M")));
    expect(ids.size).toBe(10_000);
  });

  it("uses every base62 character (no modulo bias hole)", () => {
    const seen = new Set(Array.from({ length: 2000 }, () => newId("U").slice(1)).join(""));
    expect(seen.size).toBe(62);
  });

  it("routes G ids to groups and everything else to users", () => {
    expect(isGroupId("G123")).toBe(true);
    expect(isGroupId("U123")).toBe(false);
    expect(isGroupId("1766924990899297500")).toBe(false);
  });

  it("names a private conversation the same from both sides", () => {
    expect(privateConversationId("Ub", "Ua")).toBe("Ua:Ub");
    expect(privateConversationId("Ua", "Ub")).toBe("Ua:Ub");
  });
});
