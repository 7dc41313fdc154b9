import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const CONTRACT = "docs/legacy-contract.md";
const SOURCES = ["apps", "packages", "e2e", "bench"];
const SKIP = new Set(["node_modules", "dist", ".data", "test-results", "playwright-report", "results"]);

function* files(dir: string, pattern = /\.(ts|tsx)$/): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path, pattern);
    else if (pattern.test(name) && !name.endsWith(".d.ts")) yield path;
  }
}

/** The repository's own documents (README, ARCHITECTURE, the packages' READMEs), the contract itself aside. */
const documents = () => [...files(root, /\.md$/)].filter((path) => relative(root, path) !== CONTRACT);

/** The word "issue" followed by a number: work items live in the tracker, not in what a reader of the repository sees. */
const ISSUE_REFERENCE = /\bissues?\s*#?\d+/i;

/** What legacy-contract defines: numbered headings ("## 3.2 …", "### 2.8 …") and the D-items of its §0 table. */
function contractTargets(markdown: string): Set<string> {
  const targets = new Set<string>();
  for (const line of markdown.split("\n")) {
    const heading = /^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s/.exec(line);
    if (heading?.[1]) targets.add(`§${heading[1]}`);
    const item = /^\|\s*(D\d+)\s*\|/.exec(line);
    if (item?.[1]) targets.add(item[1]);
  }
  return targets;
}

/** Citations in a piece of prose: sections ("legacy-contract §2.8", each end of "§2.12-§2.15") and decisions ("D6"). */
function citationsIn(text: string): string[] {
  const sections = [...text.matchAll(/§\s*(\d+(?:\.\d+)*)/g)].map((m) => `§${m[1]}`);
  const decisions = [...text.matchAll(/\bD\d+\b/g)].map((m) => m[0]);
  return [...sections, ...decisions];
}

const TEST_CALLS = new Set(["describe", "it", "test"]);

/** The prose of a source file: its comments and the titles of its describe/it/test calls. */
function proseOf(fileName: string, text: string): { line: number; text: string }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, fileName.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found = new Map<number, string>();
  const addComments = (ranges: ts.CommentRange[] | undefined) => {
    for (const r of ranges ?? []) found.set(r.pos, text.slice(r.pos, r.end));
  };
  const visit = (node: ts.Node) => {
    addComments(ts.getLeadingCommentRanges(text, node.getFullStart()));
    addComments(ts.getTrailingCommentRanges(text, node.getEnd()));
    if (ts.isCallExpression(node)) {
      const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.expression : node.expression;
      const title = node.arguments[0];
      if (ts.isIdentifier(callee) && TEST_CALLS.has(callee.text) && title && ts.isStringLiteralLike(title)) {
        found.set(title.getStart(source), title.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  addComments(ts.getLeadingCommentRanges(text, source.endOfFileToken.getFullStart()));
  return [...found].map(([pos, prose]) => ({ line: source.getLineAndCharacterOfPosition(pos).line + 1, text: prose }));
}

describe("citations of the legacy contract resolve", () => {
  const targets = contractTargets(readFileSync(join(root, CONTRACT), "utf8"));

  it("every § and D citation in comments and test titles names a section or decision of docs/legacy-contract.md", () => {
    const offenders: string[] = [];
    let cited = 0;
    for (const dir of SOURCES) {
      for (const path of files(join(root, dir))) {
        const rel = relative(root, path);
        for (const { line, text } of proseOf(path, readFileSync(path, "utf8"))) {
          const citations = citationsIn(text);
          if (citations.length === 0) continue;
          cited += citations.length;
          // Say which document: "legacy-contract §2.8", "legacy-contract D6".
          if (!text.includes("legacy-contract")) offenders.push(`${rel}:${line}: cites ${citations.join(", ")} without naming legacy-contract`);
          for (const c of citations) if (!targets.has(c)) offenders.push(`${rel}:${line}: ${c} is not in ${CONTRACT}`);
        }
      }
    }
    expect(offenders).toEqual([]);
    // The scan reads what it should: the adapter cites the contract in many places.
    expect(cited).toBeGreaterThan(50);
  });

  it("every § and D citation in the repository's documents names a section or decision of docs/legacy-contract.md", () => {
    const offenders: string[] = [];
    let cited = 0;
    for (const path of documents()) {
      readFileSync(path, "utf8")
        .split("\n")
        .forEach((text, i) => {
          for (const c of citationsIn(text)) {
            cited++;
            if (!targets.has(c)) offenders.push(`${relative(root, path)}:${i + 1}: ${c} is not in ${CONTRACT}`);
          }
        });
    }
    expect(offenders).toEqual([]);
    // ARCHITECTURE.md's legacy adapter section cites the contract throughout.
    expect(cited).toBeGreaterThan(10);
  });

  it("no comment, test title or document refers to an issue number", () => {
    const offenders: string[] = [];
    for (const dir of SOURCES) {
      for (const path of files(join(root, dir))) {
        for (const { line, text } of proseOf(path, readFileSync(path, "utf8"))) if (ISSUE_REFERENCE.test(text)) offenders.push(`${relative(root, path)}:${line}`);
      }
    }
    for (const path of [...documents(), join(root, CONTRACT)]) {
      readFileSync(path, "utf8")
        .split("\n")
        .forEach((text, i) => {
          if (ISSUE_REFERENCE.test(text)) offenders.push(`${relative(root, path)}:${i + 1}`);
        });
    }
    expect(offenders).toEqual([]);
    expect(ISSUE_REFERENCE.test("as asked in issue 13")).toBe(true);
    expect(ISSUE_REFERENCE.test("the issues it lists")).toBe(false);
  });

  it("the contract's own cross-references resolve", () => {
    const markdown = readFileSync(join(root, CONTRACT), "utf8");
    const dangling = citationsIn(markdown).filter((c) => !targets.has(c));
    expect([...new Set(dangling)]).toEqual([]);
  });

  it("the contract keeps the sections and decisions the code relies on", () => {
    for (const t of ["§0", "§1.5", "§2.8", "§2.30", "§3.2", "§3.4", "§4.5", "§5.7", "D1", "D17", "D23", "D24"]) expect(targets, t).toContain(t);
    expect(targets).not.toContain("§9.9");
    expect(targets).not.toContain("D99");
  });

  it("the check finds citations in comments and test titles, and only there", () => {
    const sample = [
      "/** Legacy order (legacy-contract §2.22, D4). */",
      "const nickname = \"D1\"; // legacy-contract §9.9",
      "describe(\"join approval paths (legacy-contract D10)\", () => {});",
      "const s = \"§2.8 in a string is not prose\";",
    ].join("\n");
    const prose = proseOf("sample.ts", sample);
    expect(prose.flatMap((p) => citationsIn(p.text)).sort()).toEqual(["D10", "D4", "§2.22", "§9.9"].sort());
    expect(citationsIn("groups (legacy-contract §2.18-§2.23)")).toEqual(["§2.18", "§2.23"]);
  });
});
