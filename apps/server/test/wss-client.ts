import WebSocket from "ws";

export type Frame = Record<string, unknown>;

/** A legacy /wss connection that records every frame it receives. */
export async function openLegacySocket(baseUrl: string, clientId: string, token: string) {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/wss?client_id=${clientId}&token=${token}`);
  const frames: Frame[] = [];
  ws.on("message", (data: Buffer) => frames.push(JSON.parse(data.toString()) as Frame));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    ws,
    frames,
    send: (frame: Frame) => ws.send(JSON.stringify(frame)),
    messages: () => frames.filter((f) => typeof f.type === "number"),
    async until(check: (frames: Frame[]) => boolean, timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(frames)) {
        if (Date.now() > deadline) throw new Error(`timed out; frames: ${JSON.stringify(frames)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return frames;
    },
    close: () => ws.close(),
  };
}

/** The HTTP status a refused handshake answers with. */
export function handshakeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("open", () => {
      resolve(101);
      ws.close();
    });
    ws.once("error", (e) => reject(e));
  });
}
