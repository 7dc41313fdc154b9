// Totals the vitest JSON reports in test-results/ into one closing line: "tests: N passed, N failed".
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../test-results/", import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
let files = 0;
for (const name of readdirSync(dir).filter((f) => f.startsWith("vitest-") && f.endsWith(".json"))) {
  const report = JSON.parse(readFileSync(join(dir, name), "utf8"));
  files++;
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.numFailedTestSuites ?? 0);
  skipped += report.numPendingTests + report.numTodoTests;
}
for (const name of readdirSync(dir).filter((f) => f.startsWith("playwright") && f.endsWith(".json"))) {
  const report = JSON.parse(readFileSync(join(dir, name), "utf8"));
  files++;
  passed += report.stats.expected;
  failed += report.stats.unexpected + report.stats.flaky;
  skipped += report.stats.skipped;
}
if (files === 0) {
  console.log("tests: 0 passed, 1 failed (no test report found)");
  process.exit(1);
}
console.log(skipped ? `tests: ${passed} passed, ${failed} failed, ${skipped} skipped` : `tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
