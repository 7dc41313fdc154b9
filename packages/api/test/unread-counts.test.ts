/**
 * Unread counts through the router: per member after sends, after a read on another device of
 * the same account, and after members leave or are removed (their session leaves the list).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestContext, type TestContext } from "../../domain/test/helpers.js";
import { callerFor, newActor, signToken, type Actor, type Caller } from "./fixtures.js";

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext();
});

afterAll(async () => {
  await t?.dispose();
});

/** The caller's session of the group as the list shows it: [readSeq, lastSeq, unread], or null when absent. */
async function groupSession(api: Caller, groupId: string): Promise<[number, number, number] | null> {
  const item = (await api.sessions.list()).find((s) => s.peerId === groupId);
  return item ? [item.readSeq, item.lastSeq, item.unreadCount] : null;
}

async function unreadOf(actors: Record<string, Actor>, groupId: string): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const [name, actor] of Object.entries(actors)) out[name] = (await groupSession(actor.api, groupId))?.[2] ?? null;
  return out;
}

describe("unread counts via the router", () => {
  it("follow sends, reads on another device, leaving and removal", async () => {
    const owner = await newActor(t.ctx, "owner");
    const alice = await newActor(t.ctx, "alice");
    const bob = await newActor(t.ctx, "bob");
    const muted = await newActor(t.ctx, "muted");
    const everyone = { owner, alice, bob, muted };
    const { uuid: groupId } = await owner.api.groups.create({ name: "unread", memberIds: [alice.uuid, bob.uuid, muted.uuid] });
    await owner.api.groups.setMuted({ groupId, userId: muted.uuid, muted: true });

    // Every member has the session from the start, nothing unread.
    expect(await unreadOf(everyone, groupId)).toEqual({ owner: 0, alice: 0, bob: 0, muted: 0 });

    // Sends: the sender's own messages (and what came before them) are read; a muted member receives.
    expect((await owner.api.messages.send({ receiveId: groupId, content: "1" })).message.seq).toBe(1);
    expect((await owner.api.messages.send({ receiveId: groupId, content: "2" })).message.seq).toBe(2);
    expect((await alice.api.messages.send({ receiveId: groupId, content: "3" })).message.seq).toBe(3);
    expect(await unreadOf(everyone, groupId)).toEqual({ owner: 1, alice: 0, bob: 3, muted: 3 });

    // Bob reads up to 2 on his phone: his laptop (the first caller) sees it too; nobody else changes.
    const bobPhone = await callerFor(t.ctx, await signToken(t.ctx, bob.uuid));
    expect(await bobPhone.sessions.markRead({ peerId: groupId, seq: 2 })).toEqual({ readSeq: 2, unreadCount: 1 });
    expect(await groupSession(bob.api, groupId)).toEqual([2, 3, 1]);
    expect(await unreadOf(everyone, groupId)).toEqual({ owner: 1, alice: 0, bob: 1, muted: 3 });

    // A read never moves backwards, nor past the last message.
    expect(await bob.api.sessions.markRead({ peerId: groupId, seq: 1 })).toEqual({ readSeq: 2, unreadCount: 1 });
    expect(await bobPhone.sessions.markRead({ peerId: groupId, seq: 99 })).toEqual({ readSeq: 3, unreadCount: 0 });
    expect(await groupSession(bob.api, groupId)).toEqual([3, 3, 0]);

    // The muted member reads everything on the one device it has.
    expect(await muted.api.sessions.markRead({ peerId: groupId })).toEqual({ readSeq: 3, unreadCount: 0 });
    expect(await unreadOf(everyone, groupId)).toEqual({ owner: 1, alice: 0, bob: 0, muted: 0 });

    // Alice leaves: her session is gone from her list (and stays gone as the group goes on).
    await alice.api.groups.leave({ groupId });
    expect(await groupSession(alice.api, groupId)).toBeNull();
    expect(await unreadOf(everyone, groupId)).toEqual({ owner: 1, alice: null, bob: 0, muted: 0 });
    expect((await bob.api.messages.send({ receiveId: groupId, content: "4" })).message.seq).toBe(4);
    expect(await unreadOf(everyone, groupId)).toEqual({ owner: 2, alice: null, bob: 0, muted: 1 });
    expect((await alice.api.sessions.list({ kind: "group" })).map((s) => s.peerId)).toEqual([]);

    // The owner removes Bob: same for him, on both devices.
    await owner.api.groups.removeMembers({ groupId, memberIds: [bob.uuid] });
    expect((await owner.api.messages.send({ receiveId: groupId, content: "5" })).message.seq).toBe(5);
    expect(await unreadOf(everyone, groupId)).toEqual({ owner: 0, alice: null, bob: null, muted: 2 });
    expect(await groupSession(bobPhone, groupId)).toBeNull();

    // Those who stay see the group's newest state.
    expect(await groupSession(muted.api, groupId)).toEqual([3, 5, 2]);
    expect(await groupSession(owner.api, groupId)).toEqual([5, 5, 0]);
  });

  it("count a rejoined member from its return, not the messages it missed while away", async () => {
    const owner = await newActor(t.ctx, "owner");
    const carol = await newActor(t.ctx, "carol");
    const { uuid: groupId } = await owner.api.groups.create({ name: "rejoin", memberIds: [carol.uuid] });
    await owner.api.messages.send({ receiveId: groupId, content: "1" });
    await carol.api.groups.leave({ groupId });
    await owner.api.messages.send({ receiveId: groupId, content: "2 (carol away)" });
    await owner.api.messages.send({ receiveId: groupId, content: "3 (carol away)" });
    expect(await groupSession(carol.api, groupId)).toBeNull();

    const { applyId } = await carol.api.groups.requestJoin({ groupId });
    await owner.api.groups.approve({ applyId, groupId });
    expect(await groupSession(carol.api, groupId)).toEqual([3, 3, 0]);
    await owner.api.messages.send({ receiveId: groupId, content: "4" });
    expect(await groupSession(carol.api, groupId)).toEqual([3, 4, 1]);
  });
});
