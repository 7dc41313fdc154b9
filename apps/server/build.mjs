// The production build: src/main.ts and the workspace packages it uses (@omnilink/*, shipped as
// TypeScript sources) bundled into one ES module, dist/main.js, that plain `node` runs. Every
// other package stays an import from node_modules: some load files of their own at run time
// (PGlite its wasm and data files), and nothing is gained by copying them.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const serverDir = import.meta.dirname;
const outdir = join(serverDir, "dist");
rmSync(outdir, { recursive: true, force: true });

/**
 * Bare imports resolve from node_modules at run time, except the workspace's own packages. The
 * bundle resolves them from apps/server/dist, so an import stays external only when it finds
 * there the same file it finds beside its source; a version nested under packages/x/node_modules
 * (e.g. the domain's p-limit, newer than the one eslint hoists) is bundled instead, from where its
 * importer found it.
 */
const nodeModulesExternal = {
  name: "node-modules-external",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith("@omnilink/") || args.pluginData === "probe") return undefined;
      if (args.path.startsWith("node:")) return { path: args.path, external: true };
      const probe = (resolveDir) => b.resolve(args.path, { kind: args.kind, resolveDir, pluginData: "probe" });
      const [here, there] = await Promise.all([probe(args.resolveDir), probe(serverDir)]);
      if (here.errors.length > 0) return { errors: here.errors };
      return here.path === there.path ? { path: args.path, external: true } : { path: here.path };
    });
  },
};

await build({
  entryPoints: { main: join(serverDir, "src/main.ts") },
  outdir,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  plugins: [nodeModulesExternal],
  logLevel: "warning",
});
