import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import {
  AppError,
  authenticateToken,
  BAD_PARAMS_MESSAGE,
  createRateLimiter,
  findSession,
  sendMessage,
  sendMessageInput,
  userStream,
  whenExpired,
  type DomainContext,
  type StreamItem,
  unauthorized,
} from "@omnilink/domain";
import type { FastifyBaseLogger } from "fastify";
import type { WebSocket, WebSocketServer } from "ws";
import { clientFrame } from "./client-frame.js";
import { toMessageItem } from "../legacy/shapes/messages.js";
import { errorFrame, eventFrame } from "./frames.js";
import { createSameTabGuard, sameTabKey } from "./same-tab.js";

function refuse(socket: Duplex, code: 400 | 401): void {
  const text = code === 400 ? "Bad Request" : "Unauthorized";
  socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export interface LegacySocketOptions {
  pingMs: number;
  /** Frames one user may send on this node, over all their connections: a burst, refilled per second. */
  frameBurst: number;
  framesPerSecond: number;
  /** Frames of one connection being processed at once. */
  maxPendingFrames: number;
}

/** What a refused frame gets, on the connection that sent it (the client drops error frames). */
const TOO_FAST = JSON.stringify(errorFrame(new AppError("RATE_LIMITED", "发送过于频繁，请稍后再试")).frame);
const EXPIRED = JSON.stringify(errorFrame(unauthorized("token expired")).frame);

/**
 * The legacy `/wss` protocol (legacy-contract §3 and D2, D3, D14, D15, D39): a valid token whose uuid
 * is `client_id` is required; several connections per user; every frame a user should hear
 * comes from the same ordered stream as the tRPC subscription; WebSocket pings keep it alive.
 * A connection ends when its token expires; what it may send is bounded by a rate per user and a
 * number of frames in progress per connection, private and group frames alike.
 */
export function createLegacySocketServer(domain: DomainContext, log: FastifyBaseLogger, options: LegacySocketOptions) {
  const { pingMs } = options;
  /** Frames per user on this node: more connections do not buy a user more sends. */
  const frameRate = createRateLimiter(options.frameBurst, options.framesPerSecond);
  /** This node's legacy connections per user, for error frames to all of a sender's connections. */
  const connections = new Map<string, Set<WebSocket>>();
  /**
   * Group messages and events look the same to every recipient, and the dispatcher hands the same
   * item object to all of them: serialise once per item, not once per member.
   */
  const sharedFrames = new WeakMap<StreamItem, Buffer>();

  /** One tab's duplicate sockets (legacy-contract D39). */
  const sameTab = createSameTabGuard();

  async function accept(req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer): Promise<void> {
    const arrivedAt = performance.now();
    socket.on("error", () => socket.destroy());
    const query = new URL(req.url ?? "/", "http://localhost").searchParams;
    const clientId = query.get("client_id") ?? "";
    const token = query.get("token") ?? "";
    if (!clientId) return refuse(socket, 400);
    if (!token) return refuse(socket, 401);
    let expiresAt: number;
    try {
      const verified = await authenticateToken(domain, token);
      if (verified.identity.uuid !== clientId) return refuse(socket, 401);
      expiresAt = verified.expiresAt;
    } catch {
      return refuse(socket, 401);
    }
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      onConnection(ws, clientId, expiresAt);
      sameTab.admit(sameTabKey(req, clientId, token), ws, arrivedAt);
    });
  }

  function onConnection(ws: WebSocket, userId: string, expiresAt: number): void {
    let set = connections.get(userId);
    if (!set) connections.set(userId, (set = new Set()));
    set.add(ws);
    const abort = new AbortController();
    const sessionOf = new Map<string, string>();

    void (async () => {
      try {
        for await (const item of userStream(domain, userId, { signal: abort.signal })) {
          // Encoded once, sent as a text frame to every recipient without re-encoding.
          const frame = sharedFrames.get(item) ?? (await frameBytes(item, userId, sessionOf));
          if (ws.readyState === ws.OPEN) ws.send(frame, { binary: false });
        }
      } catch (error) {
        if (error instanceof AppError && error.kind === "RATE_LIMITED") log.warn({ userId }, "legacy socket too slow; closing");
        else log.error({ err: error, userId }, "legacy socket stream failed");
        ws.terminate();
      }
    })();

    let alive = true;
    ws.on("pong", () => (alive = true));
    const pinger = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, pingMs);

    // The token is the connection's licence: when it expires the connection ends, with a normal
    // close. The client reconnects with the same token, the handshake refuses it (401), and the
    // client's next HTTP call, answered 401, takes it to the login page.
    const stopExpiry = whenExpired(expiresAt, () => {
      if (ws.readyState === ws.OPEN) ws.send(EXPIRED);
      ws.close(1008, "token expired");
    });

    // A connection's frames keep their order without waiting for each other: every send enqueues
    // synchronously into its conversation's commit queue. Frames past the rate or past the frames
    // in progress are refused before they are decoded, so a flood holds no memory.
    let pending = 0;
    ws.on("message", (data, isBinary) => {
      if (pending >= options.maxPendingFrames || !frameRate.take(userId)) {
        if (ws.readyState === ws.OPEN) ws.send(TOO_FAST);
        return;
      }
      const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.from(data).toString("utf8");
      const input = parseFrame(ws, isBinary ? null : text);
      if (input === undefined) return;
      pending++;
      void send(userId, input).finally(() => pending--);
    });
    ws.on("close", () => {
      clearInterval(pinger);
      stopExpiry();
      abort.abort();
      set.delete(ws);
      if (set.size === 0) connections.delete(userId);
    });
    ws.on("error", (error) => log.warn({ err: error, userId }, "legacy socket error"));
  }

  /** Decodes a frame; undefined when it does not decode (the connection is then closed, as the legacy server did). */
  function parseFrame(ws: WebSocket, text: string | null) {
    let raw: unknown;
    try {
      raw = text === null ? undefined : JSON.parse(text);
    } catch {
      raw = undefined;
    }
    const frame = clientFrame.safeParse(raw);
    if (!frame.success) {
      ws.close(1003, "invalid frame");
      return undefined;
    }
    const f = frame.data;
    return sendMessageInput.safeParse({
      receiveId: f.receive_id,
      type: f.type,
      content: f.content,
      url: f.url,
      fileType: f.file_type,
      fileName: f.file_name,
      fileSize: f.file_size,
      mentionedUserIds: f.mentioned_user_ids ?? [],
      mentionAll: f.mention_all ?? false,
      sessionId: f.session_id,
      ...(f.client_msg_id ? { clientMsgId: f.client_msg_id } : {}),
    });
  }

  /** Sends; a refusal becomes an error frame on every connection of the sender (legacy-contract §3.4 c). */
  async function send(userId: string, input: ReturnType<typeof sendMessageInput.safeParse>): Promise<void> {
    try {
      if (!input.success) throw new AppError("BAD_REQUEST", BAD_PARAMS_MESSAGE);
      await sendMessage(domain, userId, input.data);
    } catch (error) {
      const { frame, unexpected } = errorFrame(error);
      if (unexpected) log.error({ err: error, userId }, "legacy send failed");
      const payload = JSON.stringify(frame);
      for (const peer of connections.get(userId) ?? []) if (peer.readyState === peer.OPEN) peer.send(payload);
    }
  }

  /** Private items carry the viewer's own session id: the sender's copy the sender's, the receiver's theirs. */
  async function frameBytes(item: StreamItem, userId: string, sessionOf: Map<string, string>): Promise<Buffer> {
    if (item.kind === "event" || item.message.receiveId.startsWith("G")) {
      const bytes = Buffer.from(JSON.stringify(item.kind === "event" ? eventFrame(item.event) : toMessageItem(item.message, "")));
      sharedFrames.set(item, bytes);
      return bytes;
    }
    const m = item.message;
    if (m.sendId === userId) return Buffer.from(JSON.stringify(toMessageItem(m, m.sessionId)));
    let mine = sessionOf.get(m.sendId);
    if (!mine) {
      mine = (await findSession(domain.db, userId, m.sendId))?.uuid ?? "";
      if (mine) sessionOf.set(m.sendId, mine);
    }
    return Buffer.from(JSON.stringify(toMessageItem(m, mine)));
  }

  return {
    accept: (req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer) => void accept(req, socket, head, wss),
  };
}
