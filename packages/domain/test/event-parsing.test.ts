import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createGroup } from "../src/groups/create-group.js";
import { membershipEffect, parseStreamEvent, type StreamItem } from "../src/realtime/events.js";
import { collect, send, settle } from "./fixtures.js";
import { newUser, useTestContext } from "./helpers.js";

const t = useTestContext();

const row = (type: string, payload: unknown) => ({ id: "42", type, groupId: "G1", userIds: ["U1"], payload, createdAt: "2026-01-02T03:04:05.000Z" });

describe("stream events are parsed once, where they enter the process", () => {
  it("a known type with a matching payload becomes a typed event; anything else is refused", () => {
    const event = parseStreamEvent(row("member.left", { userId: "U1" }));
    expect(event).toMatchObject({ id: 42, type: "member.left", payload: { userId: "U1" } });
    expect(event?.createdAt).toBeInstanceOf(Date);
    // The union types the payload by `type`: membershipEffect reads it without a cast.
    expect(event && membershipEffect(event)).toEqual({ joined: [], removed: ["U1"], dismissed: false });
    expect(parseStreamEvent(row("member.left", { user: "U1" }))).toBeUndefined();
    expect(parseStreamEvent(row("member.joined", { userIds: "U1", by: "U2", via: "invite" }))).toBeUndefined();
    expect(parseStreamEvent(row("member.teleported", { userId: "U1" }))).toBeUndefined();
    expect(parseStreamEvent(row("toString", {}))).toBeUndefined();
  });

  it("a stored event this code cannot read is left out; the stream around it flows, live and on resume", async () => {
    const owner = await newUser(t.ctx, "owner");
    const reader = await newUser(t.ctx, "reader");
    const group = await createGroup(t.ctx, owner, { name: "parsing", memberIds: [reader] });
    const live = collect(t.ctx, reader);
    await settle();
    await send(t.ctx, owner, group.uuid, "before");
    // A row as another version of the code might have written it: a payload of the wrong shape.
    await t.ctx.db.execute(sql`insert into stream_event (type, group_id, user_ids, payload) values ('member.left', ${group.uuid}, array[${reader}]::text[], '{"who": 1}'::jsonb)`);
    await t.ctx.ticker.kick();
    await send(t.ctx, owner, group.uuid, "after");
    await live.until(2);
    await settle(200);
    const contents = (items: StreamItem[]) => items.flatMap((i) => (i.kind === "message" ? [i.message.content] : []));
    expect(contents(live.items)).toEqual(["before", "after"]);
    expect(live.items.every((i) => i.kind === "message" || i.event.type !== "member.left")).toBe(true);
    // The reader still belongs to the group: the unreadable "left" changed nothing.
    await send(t.ctx, owner, group.uuid, "still here");
    await live.until(3);
    expect(contents(live.items)).toEqual(["before", "after", "still here"]);
    await live.stop();

    const resumed = collect(t.ctx, reader, live.items[0]!.id);
    await resumed.until(2);
    await settle(200);
    expect(contents(resumed.items)).toEqual(["after", "still here"]);
    await resumed.stop();
  });
});
