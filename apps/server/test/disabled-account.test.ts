import { UserStatus, users } from "@omnilink/db";
import { register } from "@omnilink/domain";
import { TRPCClientError } from "@trpc/client";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { pause, postJson, useTestServer } from "./helpers.js";
import { connect } from "./trpc-client.js";
import { handshakeStatus } from "./wss-client.js";

const server = useTestServer();

/** What each transport answers a caller holding `token` (the user it names is `uuid`). */
async function answers(uuid: string, token: string) {
  const rest = await postJson(server.url, "/contact/getUserList", { owner_id: uuid }, token);
  const ping = await fetch(`${server.url}/auth/ping`, { headers: { authorization: `Bearer ${token}` } });
  const { client, close } = connect(server.url, token);
  try {
    const trpcHttp = await client.auth.me.query().then(
      () => "ok",
      (error: unknown) => (error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : String(error)),
    );
    const trpcSocket = await new Promise<string>((resolve) => {
      const sub = client.live.events.subscribe(undefined, {
        onStarted: () => {
          sub.unsubscribe();
          resolve("started");
        },
        onError: (error) => resolve((error.data as { code?: string } | undefined)?.code ?? error.message),
      });
    });
    const wss = await handshakeStatus(`${server.url.replace(/^http/, "ws")}/wss?client_id=${uuid}&token=${token}`);
    return { rest: [rest.status, rest.json.code], ping: ping.status, trpcHttp, trpcSocket, wss };
  } finally {
    await close();
  }
}

const setStatus = (uuid: string, status: number) => server.domain.db.update(users).set({ status }).where(eq(users.uuid, uuid));

describe("a disabled account (legacy-contract D38)", () => {
  it("is refused on every transport, with the token it already holds, and let in again once enabled", async () => {
    const { user, token } = await register(server.domain, { username: `disabled_${Date.now() % 100000}`, password: "secret123", nickname: "d" });
    const enabled = { rest: [200, 200], ping: 200, trpcHttp: "ok", trpcSocket: "started", wss: 101 };
    expect(await answers(user.uuid, token)).toEqual(enabled);

    await setStatus(user.uuid, UserStatus.disabled);
    expect(await answers(user.uuid, token)).toEqual({ rest: [401, 401], ping: 401, trpcHttp: "UNAUTHORIZED", trpcSocket: "UNAUTHORIZED", wss: 401 });
    // The login says why.
    const login = await postJson(server.url, "/login", { username: user.username, password: "secret123" });
    expect(login.json).toEqual({ code: 403, message: "用户已被禁用" });

    await setStatus(user.uuid, UserStatus.normal);
    await pause(50);
    expect(await answers(user.uuid, token)).toEqual(enabled);
  });
});
