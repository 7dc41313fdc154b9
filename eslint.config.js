// @ts-check
import js from "@eslint/js";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/** Database access belongs to packages/domain (and packages/db); see the layering blocks below. */
const DATABASE_IMPORTS = {
  group: ["drizzle-orm", "drizzle-orm/*", "@omnilink/db", "@omnilink/db/*"],
  message: "apps/* and packages/api reach the database through @omnilink/domain only (ARCHITECTURE.md, Layers).",
};

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/.data/**", "**/migrations/**", "**/test-results/**", "**/playwright-report/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  // Layers (ARCHITECTURE.md "Layers"): the apps and the tRPC routers reach the database only
  // through the domain. Tests may set up and inspect state directly.
  {
    files: ["apps/**/*.{ts,tsx}", "packages/api/**/*.ts"],
    ignores: ["**/test/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [DATABASE_IMPORTS] }],
    },
  },
  // The composition root opens the database and hands it to createDomain: exactly createDb and its handle type.
  {
    files: ["apps/server/src/app.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "@omnilink/db", allowImportNames: ["createDb", "DbHandle"], message: DATABASE_IMPORTS.message }],
          patterns: [{ ...DATABASE_IMPORTS, group: DATABASE_IMPORTS.group.filter((g) => g !== "@omnilink/db") }],
        },
      ],
    },
  },
  // No import cycles (ARCHITECTURE.md, Layers): a module's runtime imports form a tree, so load
  // order never hands a module a half-initialised one. Type-only imports are not followed (they
  // vanish at compile time): DomainContext names its parts' types, the parts import it as a type.
  {
    files: ["**/*.{ts,tsx}"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".tsx", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".tsx"] },
      "import-x/resolver-next": [
        createNodeResolver({ extensions: [".ts", ".tsx", ".js"], extensionAlias: { ".js": [".ts", ".tsx", ".js"] }, conditionNames: ["import", "default"] }),
      ],
    },
    rules: {
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
