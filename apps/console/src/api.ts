import type { AppRouter } from "@omnilink/api";
import type { EphemeralEvent, ReceiptUpdate, StreamItem } from "@omnilink/domain";
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  TRPCClientError,
  wsLink,
  type TRPCClient,
} from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
import superjson from "superjson";

// Types only: the console never bundles server code (`import type` is erased by the build).
export type { EphemeralEvent, MessageView, StreamEventView, StreamItem } from "@omnilink/domain";
export type Api = TRPCClient<AppRouter>;
export type Outputs = inferRouterOutputs<AppRouter>;
export type SessionItem = Outputs["sessions"]["list"][number];
export type Friend = Outputs["contacts"]["friends"][number];
export type PendingRequest = Outputs["contacts"]["pending"][number];
export type Profile = Outputs["auth"]["me"];
export type GroupInfo = Outputs["groups"]["info"];
export type GroupMember = Outputs["groups"]["members"][number];
export type { ReceiptUpdate } from "@omnilink/domain";

/** Queries and mutations over HTTP (batched), with the tab's token. */
export function createHttpApi(token: string | null): Api {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: "/trpc",
        transformer: superjson,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
      }),
    ],
  });
}

/** What a refusal says: the server's message (the legacy user-facing text), else the failure. */
export function errorText(error: unknown): string {
  if (error instanceof TRPCClientError) return error.message || "请求失败";
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isUnauthorized(error: unknown): boolean {
  return error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === "UNAUTHORIZED";
}

export type LiveStatus = "connecting" | "online" | "offline" | "error";

export interface LiveHandlers {
  /** Each stream item once, in stream order (items at or below the last seen id are dropped). */
  onItem(item: StreamItem): void;
  /** Typing and presence (`live.signals`, on the same socket): never replayed, nothing to resume. */
  onSignal(event: EphemeralEvent): void;
  /**
   * The subscription (re)started: a good time to refresh lists. `resumed`: it started from a
   * tracked id, so the stream itself delivers everything missed; otherwise (the first start)
   * whatever was sent before it began must be read from history.
   */
  onStarted(resumed: boolean): void;
  onStatus(status: LiveStatus, detail?: string): void;
  onUnauthorized(): void;
  /** A read receipt update (a `receipt` on `live.signals`): throttled per conversation by the server. */
  onReceipt?(update: ReceiptUpdate): void;
}

/**
 * The live subscription (`live.events`) over its own WebSocket. tRPC's wsLink reconnects by itself
 * and resubscribes with the last tracked id; when the browser says it is offline the socket is
 * closed on purpose (a dead network can leave it open but silent) and reopened when it is back,
 * resuming from the last id seen. Either way the server backfills exactly what was missed.
 */
export class LiveConnection {
  private ws: ReturnType<typeof createWSClient> | null = null;
  private unsubscribe: (() => void) | null = null;
  private lastEventId: string | null = null;
  private stopped = true;
  private disposed = false;

  constructor(
    private readonly token: string,
    private readonly handlers: LiveHandlers,
  ) {}

  start(): void {
    if (!this.stopped || this.disposed) return;
    this.stopped = false;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = createWSClient({
      url: `${scheme}://${location.host}/trpc`,
      connectionParams: { token: this.token },
      retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 4000),
      keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws, transformer: superjson })] });
    this.ws = ws;
    this.handlers.onStatus("connecting");
    const sub = client.live.events.subscribe(this.lastEventId ? { lastEventId: this.lastEventId } : undefined, {
      onStarted: () => {
        if (this.ws !== ws) return;
        this.handlers.onStatus("online");
        // wsLink's own reconnects resubscribe with the last tracked id too.
        this.handlers.onStarted(this.lastEventId !== null);
      },
      onData: (event) => {
        if (this.ws !== ws) return;
        if (this.lastEventId !== null && Number(event.id) <= Number(this.lastEventId)) return;
        this.lastEventId = event.id;
        this.handlers.onItem(event.data);
      },
      onConnectionStateChange: (state) => {
        if (this.ws !== ws) return;
        if (state.state === "connecting") this.handlers.onStatus("connecting", state.error ? errorText(state.error) : undefined);
      },
      onError: (error) => {
        if (this.ws !== ws) return;
        if (isUnauthorized(error)) return this.handlers.onUnauthorized();
        this.handlers.onStatus("error", errorText(error));
        // The server ended the stream (e.g. this client fell behind): start again from the last id.
        this.restart();
      },
    });
    // Typing, presence and read receipts (ephemeral: the next (re)start of the socket subscribes
    // again, and the lists and counts are refetched then).
    const signals = client.live.signals.subscribe(undefined, {
      onData: (event) => {
        if (this.ws !== ws) return;
        if (event.kind === "receipt") this.handlers.onReceipt?.(event);
        else this.handlers.onSignal(event);
      },
      // Ends with the socket; the stream above handles errors and restarts both.
      onError: () => {},
    });
    this.unsubscribe = () => {
      sub.unsubscribe();
      signals.unsubscribe();
    };
  }

  stop(status: LiveStatus = "offline"): void {
    if (this.stopped) return;
    this.stopped = true;
    const ws = this.ws;
    this.ws = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    void ws?.close();
    this.handlers.onStatus(status);
  }

  /** For good (log out): no restart after this. */
  dispose(): void {
    this.disposed = true;
    this.stop();
  }

  private restart(): void {
    this.stop("connecting");
    setTimeout(() => {
      if (navigator.onLine) this.start();
    }, 500);
  }
}
