import type { AppRouter } from "@omnilink/api";
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, TRPCClientError, wsLink, type TRPCClient } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import superjson from "superjson";

// Types only: the console never bundles server code (`import type` is erased by the build).
export type Outputs = inferRouterOutputs<AppRouter>;

/** `useTRPC()` gives the options proxy (queryOptions, mutationOptions, queryKey, …); `useTRPCClient()` the client. */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();
export type Trpc = ReturnType<typeof useTRPC>;

/** The one tRPC client of a signed-in tab (or of the sign-in screen), and its WebSocket. */
export interface Connection {
  client: TRPCClient<AppRouter>;
  /** Closes the WebSocket now; the next subscription opens a new one (see features/live). */
  closeSocket: () => Promise<void>;
}

/**
 * One client for everything: subscriptions over the WebSocket (`connectionParams: { token }`),
 * queries and mutations over HTTP (batched, `Authorization: Bearer …`). The socket is lazy: it
 * opens with the first subscription, so the sign-in screen's client never opens one. A new token
 * gets a new Connection (App.tsx): no socket outlives the user it was opened for.
 */
export function createConnection(token: string | null): Connection {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = createWSClient({
    url: `${scheme}://${location.host}/trpc`,
    connectionParams: token ? { token } : null,
    lazy: { enabled: true, closeMs: 10_000 },
    retryDelayMs: (attempt) => Math.min(250 * 2 ** attempt, 4000),
    keepAlive: { enabled: true, intervalMs: 10_000, pongTimeoutMs: 5_000 },
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink({ client: socket, transformer: superjson }),
        false: httpBatchLink({
          url: "/trpc",
          transformer: superjson,
          headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
        }),
      }),
    ],
  });
  return { client, closeSocket: () => socket.close() };
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
