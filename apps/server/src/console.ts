import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Where `npm run build -w @omnilink/console` puts the test console. */
const CONSOLE_DIST = fileURLToPath(new URL("../../console/dist/", import.meta.url));

/** Paths that belong to the server: the console never answers for them, so their 404s stay. */
const SERVER_PATHS = /^\/(trpc|wss|healthz|metrics|static|assets)(\/|$)/;

/**
 * Serves the built React test console at `/`: hashed assets under /assets/, and index.html for
 * the console's client routes (GET, no file extension, a browser asking for HTML). Everything
 * else — tRPC, the sockets, health, uploaded files, the legacy POST routes — is untouched.
 * Without a build (tests, or before `npm start` built it) nothing is registered.
 */
export async function registerConsole(app: FastifyInstance, dist = CONSOLE_DIST): Promise<void> {
  const indexFile = join(dist, "index.html");
  if (!existsSync(indexFile)) {
    app.log.debug({ dist }, "no console build: the test console is not served");
    return;
  }
  await app.register(fastifyStatic, {
    root: join(dist, "assets"),
    prefix: "/assets/",
    // Another registration (uploaded files) may own reply.sendFile.
    decorateReply: false,
    index: false,
    immutable: true,
    maxAge: "365d",
  });
  const serveIndex = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split("?")[0] ?? "/";
    const wantsHtml = path === "/" || (request.headers.accept ?? "").includes("text/html");
    if (SERVER_PATHS.test(path) || extname(path) !== "" || !wantsHtml) return reply.callNotFound();
    const html = await readFile(indexFile);
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(html);
  };
  app.get("/", serveIndex);
  app.get("/*", serveIndex);
  app.log.info({ dist }, "serving the test console at /");
}
