/**
 * The per-group send budget (a token bucket) must be spent only by sends the group accepts: a
 * caller who may not send (stranger, removed member, muted member) must not be able to use it
 * up and so silence the members. A small budget that hardly refills makes that visible.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestContext, type TestContext } from "../../domain/test/helpers.js";
import { newActor, trpcCode, type Actor } from "./fixtures.js";

const BURST = 3;
let t: TestContext;

beforeAll(async () => {
  t = await createTestContext({ groupSendBurst: BURST, groupSendPerSecond: 0.001, groupSendMemberShare: 1 });
});

afterAll(async () => {
  await t?.dispose();
});

async function groupOf(owner: Actor, members: Actor[]): Promise<string> {
  return (await owner.api.groups.create({ name: "budget", memberIds: members.map((m) => m.uuid) })).uuid;
}

describe("per-group send budget and authorization", () => {
  it("is in force: members' sends beyond the burst are throttled", async () => {
    const owner = await newActor(t.ctx, "owner");
    const member = await newActor(t.ctx, "member");
    const groupId = await groupOf(owner, [member]);
    for (let i = 1; i <= BURST; i++) {
      expect((await member.api.messages.send({ receiveId: groupId, content: `m${i}` })).message.seq).toBe(i);
    }
    expect(await trpcCode(owner.api.messages.send({ receiveId: groupId, content: "one too many" }))).toBe("TOO_MANY_REQUESTS");
  });

  it.each(["stranger", "removed", "muted"] as const)("is not spent by refused sends of a %s", async (role) => {
    const owner = await newActor(t.ctx, "owner");
    const member = await newActor(t.ctx, "member");
    const intruder = await newActor(t.ctx, role);
    const groupId = await groupOf(owner, role === "stranger" ? [member] : [member, intruder]);
    if (role === "removed") await owner.api.groups.removeMembers({ groupId, memberIds: [intruder.uuid] });
    if (role === "muted") await owner.api.groups.setMuted({ groupId, userId: intruder.uuid, muted: true });

    // Every attempt is refused as not allowed, however many there are ...
    const refusals: string[] = [];
    for (let i = 0; i < BURST + 2; i++) refusals.push(await trpcCode(intruder.api.messages.send({ receiveId: groupId, content: `spam ${i}` })));
    // ... and the members can still talk.
    const memberSend = await member.api.messages.send({ receiveId: groupId, content: "still here" }).then(
      ({ message }) => `sent as seq ${message.seq}`,
      (e: unknown) => (e instanceof TRPCError ? e.code : String(e)),
    );
    expect({ refusals, memberSend }).toEqual({ refusals: Array<string>(BURST + 2).fill("FORBIDDEN"), memberSend: "sent as seq 1" });
  });
});
