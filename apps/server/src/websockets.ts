import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import { WebSocketServer } from "ws";

/**
 * One port for everything: WebSocket upgrades are routed by path to their server (tRPC at
 * /trpc, the legacy protocol at /wss); anything else is refused. A socket whose unsent data
 * passes `maxBufferBytes` is closed: a slow reader must not grow the server's memory.
 */
export function createWebSocketRouter(app: FastifyInstance, maxBufferBytes: number) {
  const servers = new Map<string, WebSocketServer>();
  const handlers = new Map<string, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>();
  app.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const handler = handlers.get(path);
    if (handler) return handler(req, socket, head);
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  const sweep = setInterval(() => {
    for (const wss of servers.values()) {
      for (const ws of wss.clients) {
        if (ws.bufferedAmount > maxBufferBytes) {
          app.log.warn({ buffered: ws.bufferedAmount }, "closing a WebSocket that stopped reading");
          ws.terminate();
        }
      }
    }
  }, 500);
  sweep.unref();
  return {
    /** A ws server for `path`; `accept` may answer the upgrade itself (e.g. 401) instead. */
    serve(path: string, accept?: (req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer) => void): WebSocketServer {
      const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
      servers.set(path, wss);
      handlers.set(
        path,
        accept
          ? (req, socket, head) => accept(req, socket, head, wss)
          : (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req)),
      );
      return wss;
    },
    /** Open connections per endpoint path (for metrics). */
    counts(): Record<string, number> {
      return Object.fromEntries([...servers].map(([path, wss]) => [path, wss.clients.size]));
    },
    async close(): Promise<void> {
      clearInterval(sweep);
      for (const wss of servers.values()) {
        for (const ws of wss.clients) ws.close(1012, "server restarting");
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      }
    },
  };
}
