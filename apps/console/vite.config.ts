import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** The API server the dev server proxies to (`npm run dev:console` next to `npm start`). */
const api = process.env.OMNILINK_API ?? "http://localhost:8000";

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      "/trpc": { target: api, ws: true, changeOrigin: true },
      "/static": { target: api, changeOrigin: true },
      "/healthz": { target: api, changeOrigin: true },
    },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
});
