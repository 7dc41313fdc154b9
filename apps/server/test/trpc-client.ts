import type { AppRouter } from "@omnilink/api";
import type { StreamItem } from "@omnilink/domain";
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink, type TRPCClient } from "@trpc/client";
import superjson from "superjson";
import { afterAll } from "vitest";
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

/** Registers a fresh user (`<name>_<random>`, nickname `<name>`) through `auth.register`, as the app does. */
export async function registerOverTrpc(baseUrl: string, name: string): Promise<{ uuid: string; token: string }> {
  const anon = connect(baseUrl, null);
  try {
    const { user, token } = await anon.client.auth.register.mutate({ username: `${name}_${Math.random().toString(36).slice(2, 8)}`, password: "secret123", nickname: name });
    return { uuid: user.uuid, token };
  } finally {
    await anon.close();
  }
}

/**
 * `connect` for the whole file: every client it makes is closed in an `afterAll` (registered here,
 * so it runs before the `afterAll` hooks registered earlier, such as the server's).
 */
export function useClients(): (baseUrl: string, token: string | null) => Client {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
  });
  return (baseUrl, token) => {
    const { client, close } = connect(baseUrl, token);
    closers.push(close);
    return client;
  };
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
