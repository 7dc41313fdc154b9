import { defineConfig } from "vitest/config";

/**
 * The vitest settings every package shares. Under CI a JSON report per package lands in
 * <root>/test-results/, which .ci/run totals into one "N passed, N failed" line.
 */
export function packageTestConfig(name: string, options: { exclude?: string[] } = {}) {
  return defineConfig({
    test: {
      include: ["test/**/*.test.ts"],
      exclude: ["**/node_modules/**", ...(options.exclude ?? [])],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      reporters: process.env.CI ? ["default", "json"] : ["default"],
      outputFile: { json: new URL(`./test-results/vitest-${name}-${process.env.TEST_DB_LABEL ?? "pglite"}.json`, import.meta.url).pathname },
    },
  });
}
