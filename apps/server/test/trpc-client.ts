import type { AppRouter } from "@omnilink/api";
import type { StreamItem } from "@omnilink/domain";
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, type TRPCClient } from "@trpc/client";
import superjson from "superjson";
import WebSocket from "ws";

export type Client = TRPCClient<AppRouter>;

/** A typed client as an app would build it: HTTP for queries and mutations, WebSocket for subscriptions. */
export function connect(baseUrl: string, token: string | null) {
  const wsClient = createWSClient({
    url: `${baseUrl.replace(/^http/, "ws")}/trpc`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: token ? { token } : {},
    retryDelayMs: () => 100,
    lazy: { enabled: true, closeMs: 0 },
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: wsLink({ client: wsClient, transformer: superjson }),
        false: httpBatchLink({
          url: `${baseUrl}/trpc`,
          transformer: superjson,
          headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
        }),
      }),
    ],
  });
  return { client, close: (): Promise<void> => wsClient.close() };
}

/** Subscribes to live events and records them; `until` waits for a predicate over what arrived. */
export function listen(client: Client, lastEventId?: string) {
  const items: StreamItem[] = [];
  const ids: string[] = [];
  let failure: unknown;
  const sub = client.live.events.subscribe(lastEventId ? { lastEventId } : undefined, {
    onData: (event) => {
      ids.push(event.id);
      items.push(event.data);
    },
    onError: (error) => {
      failure = error;
    },
  });
  return {
    items,
    ids,
    messages: () => items.flatMap((i) => (i.kind === "message" ? [i.message] : [])),
    events: () => items.flatMap((i) => (i.kind === "event" ? [i.event] : [])),
    async until(check: (items: StreamItem[]) => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(items)) {
        if (failure) throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(items.map((i) => (i.kind === "message" ? i.message.content : i.event.type)))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return items;
    },
    stop: () => sub.unsubscribe(),
  };
}

export const pause = (ms = 200) => new Promise((r) => setTimeout(r, ms));
