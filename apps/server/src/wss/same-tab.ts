import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";

/**
 * Two handshakes of one browser tab arrive at most this far apart when the legacy client's connect
 * race opens a second socket (legacy-contract §3.2, D39). It must stay below the client's shortest
 * reconnect delay (1 s): a tab whose socket was closed then always comes back later than this
 * window, so it can never close the socket that replaced it, and closes cannot chase each other.
 */
export const SAME_TAB_WINDOW_MS = 750;

/** Close code and reason for the older socket of a tab's pair (legacy-contract D39). */
export const SAME_TAB_CLOSE = { code: 4001, reason: "replaced by this tab's newer connection" } as const;

interface Recent {
  ws: WebSocket;
  arrivedAt: number;
}

/**
 * What marks sockets as one tab's: the same user, the same token, user agent and origin. Only
 * browsers send an Origin on a WebSocket handshake; without one (scripts, the bench, other
 * servers) a socket is never taken for a duplicate.
 */
export function sameTabKey(req: IncomingMessage, clientId: string, token: string): string | undefined {
  const origin = req.headers.origin;
  const agent = req.headers["user-agent"];
  if (!origin || !agent) return undefined;
  return JSON.stringify([clientId, token, agent, origin]);
}

/**
 * The legacy client's connect race (legacy-contract §3.2) leaves one tab with two sockets, each
 * showing every message. When a tab's second socket arrives within SAME_TAB_WINDOW_MS of its first,
 * the one whose handshake arrived first is closed: the client keeps the socket it created last as
 * its current one, and its reconnect after a close returns early while that one is open, so the
 * close costs one no-op reconnect attempt and no reconnect loop (D39).
 */
export function createSameTabGuard(windowMs = SAME_TAB_WINDOW_MS) {
  const recent = new Map<string, Recent[]>();

  return {
    /**
     * Called once `ws` is open; `arrivedAt` is when its handshake arrived (performance.now()). Closes
     * the tab's older socket of a pair: another one, or `ws` itself when its handshake was the first
     * to arrive but the last to be verified.
     */
    admit(key: string | undefined, ws: WebSocket, arrivedAt: number): void {
      if (key === undefined) return;
      const now = performance.now();
      const fresh = (recent.get(key) ?? []).filter((r) => r.ws.readyState === r.ws.OPEN && now - r.arrivedAt <= windowMs);
      const pair = [...fresh.filter((r) => Math.abs(r.arrivedAt - arrivedAt) <= windowMs), { ws, arrivedAt }];
      const newest = pair.reduce((a, b) => (b.arrivedAt >= a.arrivedAt ? b : a));
      for (const r of pair) if (r !== newest) r.ws.close(SAME_TAB_CLOSE.code, SAME_TAB_CLOSE.reason);
      const kept = [...fresh.filter((r) => !pair.includes(r)), newest];
      recent.set(key, kept);
      ws.once("close", () => {
        const left = (recent.get(key) ?? []).filter((r) => r.ws !== ws);
        if (left.length) recent.set(key, left);
        else recent.delete(key);
      });
    },
  };
}
