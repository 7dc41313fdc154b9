import { register } from "@omnilink/domain";
import { TRPCClientError } from "@trpc/client";
import { sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { useTestServer } from "./helpers.js";
import { connect } from "./trpc-client.js";

const server = useTestServer();

describe("an internal failure of a tRPC procedure", () => {
  it("is answered INTERNAL_SERVER_ERROR without its text, and logged once", async () => {
    const { token } = await register(server.domain, { username: `internal_${Date.now() % 100000}`, password: "secret123", nickname: "i" });
    const { client, close } = connect(server.url, token);
    const errors = vi.spyOn(server.server.app.log, "error");
    // A real failure of ours: the table the procedure reads is gone for a moment.
    await server.domain.db.execute(sql`alter table group_info rename to group_info_away`);
    try {
      const outcome = await client.groups.joined.query().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(TRPCClientError);
      expect(outcome instanceof TRPCClientError ? [(outcome.data as { code?: string } | undefined)?.code, outcome.message] : []).toEqual([
        "INTERNAL_SERVER_ERROR",
        "系统错误，请联系工作人员",
      ]);
      const lines = errors.mock.calls.filter(([, msg]) => typeof msg === "string" && /procedure failed/.test(msg));
      expect(lines).toHaveLength(1);
      expect(lines[0]?.[0]).toMatchObject({ path: "groups.joined" });
    } finally {
      await server.domain.db.execute(sql`alter table group_info_away rename to group_info`);
      errors.mockRestore();
      await close();
    }
    expect(await client.groups.joined.query()).toEqual([]);
  });
});
