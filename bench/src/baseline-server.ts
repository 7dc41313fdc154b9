/**
 * The fan-out baseline: a bare `ws` server that relays every frame it receives to every connected
 * client (the sender included, as a group send reaches the sender too). No parsing, no database.
 * Prints {"port": n} once listening; stops on SIGTERM.
 */
import { WebSocketServer } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 1024 * 1024 });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    for (const client of wss.clients) if (client.readyState === client.OPEN) client.send(data, { binary: isBinary });
  });
  ws.on("error", () => {});
});
wss.on("listening", () => {
  const address = wss.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
});
process.once("SIGTERM", () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
});
