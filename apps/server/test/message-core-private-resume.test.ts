import { queryRows, type Db } from "@omnilink/db";
import {
  applyFriend,
  approveFriend,
  blockContact,
  createGroup,
  deleteFriend,
  openSession,
  unblockContact,
  type StreamItem,
} from "@omnilink/domain";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/env.js";
import { pause, useTestServer } from "./helpers.js";
import { errorCode, few, invariantViolations, isError, jitter, raceUser, sleep, waitFor } from "./race-helpers.js";
import { listen, useClients } from "./trpc-client.js";
import { openLegacySocket, type Frame } from "./wss-client.js";

/**
 * (c) A private send storm racing the peer's delete and block, and (e) resuming the live stream
 * across a leave, a kick and a re-join. Observed from outside only: /wss frames, tRPC, read-only
 * SQL. message.id and stream_event.id share one sequence; a pair's rows take their ids under the
 * pair's lock, so within a pair ids follow commit order.
 */
const server = useTestServer({
  // The storms must not meet the per-group or /wss frame limits or the subscriber queue cap.
  limits: { ...loadConfig({}).limits, groupSendBurst: 1_000_000, groupSendPerSecond: 1_000_000, maxSubscriberQueue: 1_000_000 },
  sockets: { ...loadConfig({}).sockets, legacyFrameBurst: 1_000_000, legacyFramesPerSecond: 1_000_000, legacyMaxPendingFrames: 1_000_000 },
});
const connect = useClients();

const ROUNDS = 20;

const user = (name: string) => raceUser(server.domain, name);

/** The highest stream id committed so far. */
async function streamHead(db: Db): Promise<number> {
  const rows = await queryRows<{ head: number }>(
    db,
    sql`select greatest((select coalesce(max(id), 0) from message), (select coalesce(max(id), 0) from stream_event))::int as head`,
  );
  return rows[0]?.head ?? 0;
}

async function conversationOf(db: Db, ownerId: string, peerId: string): Promise<string> {
  const rows = await queryRows<{ id: string }>(db, sql`select conversation_id as id from session where send_id = ${ownerId} and receive_id = ${peerId}`);
  if (!rows[0]) throw new Error(`no session ${ownerId} → ${peerId}`);
  return rows[0].id;
}

async function storedAfter(db: Db, conversationId: string, senderId: string, afterId: number): Promise<Array<{ id: number; uuid: string }>> {
  return queryRows(
    db,
    sql`select id::int as id, uuid from message where conversation_id = ${conversationId} and send_id = ${senderId} and id > ${afterId} order by id`,
  );
}


describe("(c) a private send storm racing the peer's delete / block", () => {
  /**
   * A sends over 4 connections at once (a connection's private frames run one after another, so
   * several connections are what makes sends overlap) while B ends the friendship.
   */
  async function pair() {
    const [a, b] = [await user("pa"), await user("pb")];
    const { applyId } = await applyFriend(server.domain, a.uuid, { targetId: b.uuid, message: "" });
    await approveFriend(server.domain, b.uuid, applyId);
    const aSession = await openSession(server.domain, a.uuid, b.uuid);
    await openSession(server.domain, b.uuid, a.uuid);
    const aSockets = await Promise.all([0, 1, 2, 3].map(() => openLegacySocket(server.url, a.uuid, a.token)));
    const sb = await openLegacySocket(server.url, b.uuid, b.token);
    await pause();
    const conversation = await conversationOf(server.domain.db, a.uuid, b.uuid);
    return { a, b, aSession: aSession.sessionId, aSockets, sb, conversation };
  }

  const PER_SOCKET = 10;

  /** One round: the storm, `action` at a random moment, then everything settled. Returns what happened. */
  async function round(p: Awaited<ReturnType<typeof pair>>, tag: string, action: () => Promise<unknown>) {
    const db = server.domain.db;
    const mark = await streamHead(db);
    const [a0] = p.aSockets;
    const aFrom = a0!.frames.length;
    const bFrom = p.sb.frames.length;
    const total = PER_SOCKET * p.aSockets.length;
    // Frames keep arriving for a while (a wave every few milliseconds) while the action runs.
    const storm = (async () => {
      for (let i = 0; i < PER_SOCKET; i++) {
        p.aSockets.forEach((s, k) => s.send({ session_id: p.aSession, type: 0, content: `${tag} ${k}:${i}`, receive_id: p.b.uuid }));
        await sleep(2);
      }
    })();
    await sleep(5 + jitter(25));
    await action();
    await storm;
    const afterAction = await streamHead(db);
    // Error frames go to every connection of the sender: count them on one.
    const errors = () => a0!.frames.slice(aFrom).filter(isError);
    await waitFor(async () => (await storedAfter(db, p.conversation, p.a.uuid, mark)).length + errors().length >= total);
    const stored = await storedAfter(db, p.conversation, p.a.uuid, mark);
    const problems: string[] = [];
    if (stored.length + errors().length !== total) problems.push(`${tag}: ${total} frames sent, ${stored.length} stored + ${errors().length} error frames`);
    const bad = errors().filter((f) => !(errorCode(f) >= 400 && errorCode(f) < 500));
    if (bad.length > 0) problems.push(`${tag}: error frames not 4xx: ${JSON.stringify(bad.slice(0, 3))}`);
    return { mark, afterAction, stored, bFrom, problems };
  }

  /**
   * After a round: nothing of A stored after the event that ended the relation (`type`, addressed to
   * `addressee`), and B got every message stored before it, then the event, then nothing of A.
   * Returns the violations and whether the round really raced (some stored, some refused).
   */
  async function checkRound(
    p: Awaited<ReturnType<typeof pair>>,
    tag: string,
    outcome: Awaited<ReturnType<typeof round>>,
    type: string,
    addressee: string,
  ): Promise<{ violations: string[]; raced: boolean }> {
    const db = server.domain.db;
    const { mark, stored, bFrom, problems } = outcome;
    const violations = [...problems];
    const [event] = await queryRows<{ id: number }>(
      db,
      sql`select id::int as id from stream_event where type = ${type} and id > ${mark} and ${addressee} = any(user_ids) order by id limit 1`,
    );
    if (!event) throw new Error(`${tag}: no ${type} event stored`);
    const late = stored.filter((s) => s.id > event.id);
    if (late.length > 0) violations.push(`${tag}: ${late.length} message(s) of A stored after ${type} (event id ${event.id}; ids ${few(late.map((l) => l.id))})`);
    const before = stored.length - late.length;
    const fromA = (frames: Frame[]) => frames.filter((f) => typeof f.type === "number" && f.send_id === p.a.uuid);
    await waitFor(() => fromA(p.sb.frames.slice(bFrom)).length >= before, 5000);
    await sleep(50);
    const frames = p.sb.frames.slice(bFrom);
    const at = frames.findIndex((f) => f.type === type);
    if (at < 0) violations.push(`${tag}: B never got ${type}`);
    else if (fromA(frames.slice(at + 1)).length > 0) violations.push(`${tag}: B got ${fromA(frames.slice(at + 1)).length} message(s) of A after ${type}`);
    for (const x of await invariantViolations(db, [p.conversation])) violations.push(`${tag}: ${x}`);
    return { violations, raced: stored.length > 0 && stored.length < PER_SOCKET * p.aSockets.length };
  }

  it("deleteFriend: nothing of A stored or delivered after friend.removed; every refused frame answered", { timeout: 120_000 }, async () => {
    const p = await pair();
    const violations: string[] = [];
    let raced = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const tag = `delete round ${r}`;
      const outcome = await round(p, tag, () => deleteFriend(server.domain, p.b.uuid, { friendId: p.a.uuid }));
      const checked = await checkRound(p, tag, outcome, "friend.removed", p.a.uuid);
      violations.push(...checked.violations);
      if (checked.raced) raced++;

      // Friends again for the next round.
      const { applyId } = await applyFriend(server.domain, p.a.uuid, { targetId: p.b.uuid, message: "" });
      await approveFriend(server.domain, p.b.uuid, applyId);
    }
    [...p.aSockets, p.sb].forEach((s) => s.close());
    console.info(`(c) delete: ${raced}/${ROUNDS} rounds had both stored and refused sends`);
    expect(violations).toEqual([]);
  });

  it("blockContact: nothing of A stored or delivered after contact.blocked; every refused frame answered", { timeout: 120_000 }, async () => {
    const p = await pair();
    const violations: string[] = [];
    let raced = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const tag = `block round ${r}`;
      const outcome = await round(p, tag, () => blockContact(server.domain, p.b.uuid, { targetId: p.a.uuid }));
      // The block's event is addressed to the blocker only; its id is where the block took effect.
      const checked = await checkRound(p, tag, outcome, "contact.blocked", p.b.uuid);
      violations.push(...checked.violations);
      if (checked.raced) raced++;
      // A, the blocked user, is not told.
      if (p.aSockets[0]!.frames.some((f) => f.type === "contact.blocked")) violations.push(`${tag}: A was told about the block`);
      await unblockContact(server.domain, p.b.uuid, { targetId: p.a.uuid });
    }
    [...p.aSockets, p.sb].forEach((s) => s.close());
    console.info(`(c) block: ${raced}/${ROUNDS} rounds had both stored and refused sends`);
    expect(violations).toEqual([]);
  });
});

describe("(e) resuming live.events across leaving and re-joining a group", () => {
  const view = (items: StreamItem[]) => items.map((i) => (i.kind === "message" ? `message ${i.message.content}` : `event ${i.event.type}`));
  const increasing = (ids: string[]) => ids.every((id, k) => k === 0 || Number(id) > Number(ids[k - 1]));

  it("after a leave: the messages sent while a member and the member.left event, once, in order; nothing after", { timeout: 60_000 }, async () => {
    const [a, u] = [await user("ra"), await user("ru")];
    const ac = connect(server.url, a.token);
    const uc = connect(server.url, u.token);
    const g = (await createGroup(server.domain, a.uuid, { name: "resume leave", memberIds: [u.uuid] })).uuid;
    const first = listen(uc);
    await pause(300);
    await ac.messages.send.mutate({ receiveId: g, content: "m0" });
    await first.until(() => first.messages().some((m) => m.content === "m0"));
    const lastEventId = first.ids.at(-1)!;
    first.stop();
    await pause(100);

    await ac.messages.send.mutate({ receiveId: g, content: "m1" });
    await ac.messages.send.mutate({ receiveId: g, content: "m2" });
    await uc.groups.leave.mutate({ groupId: g });
    await ac.messages.send.mutate({ receiveId: g, content: "m3" });

    const resumed = listen(uc, lastEventId);
    await resumed.until((items) => items.some((i) => i.kind === "event" && i.event.type === "member.left"));
    await pause(300);
    await ac.messages.send.mutate({ receiveId: g, content: "m4" });
    await pause(300);
    expect(view(resumed.items)).toEqual(["message m1", "message m2", "event member.left"]);
    expect(increasing(resumed.ids)).toBe(true);
    resumed.stop();
  });

  it("after a kick and a re-join: nothing sent while out is replayed, what came after the re-join is", { timeout: 60_000 }, async () => {
    const [a, u] = [await user("ka"), await user("ku")];
    const ac = connect(server.url, a.token);
    const uc = connect(server.url, u.token);
    const g = (await createGroup(server.domain, a.uuid, { name: "resume kick", memberIds: [u.uuid] })).uuid;
    const first = listen(uc);
    await pause(300);
    await ac.messages.send.mutate({ receiveId: g, content: "k0" });
    await first.until(() => first.messages().some((m) => m.content === "k0"));
    const lastEventId = first.ids.at(-1)!;
    first.stop();
    await pause(100);

    await ac.messages.send.mutate({ receiveId: g, content: "k1 member" });
    await ac.groups.removeMembers.mutate({ groupId: g, memberIds: [u.uuid] });
    await ac.messages.send.mutate({ receiveId: g, content: "k2 while out" });
    const invited = await ac.groups.invite.mutate({ groupId: g, memberIds: [u.uuid] });
    expect(invited.added).toEqual([u.uuid]);
    await ac.messages.send.mutate({ receiveId: g, content: "k3 back" });

    const resumed = listen(uc, lastEventId);
    await resumed.until(() => resumed.messages().some((m) => m.content === "k3 back"));
    await pause(300);
    // Live again after the replay, without repeating anything.
    await ac.messages.send.mutate({ receiveId: g, content: "k4 live" });
    await resumed.until(() => resumed.messages().some((m) => m.content === "k4 live"));
    await pause(200);
    expect(view(resumed.items)).toEqual(["message k1 member", "event member.removed", "event member.joined", "message k3 back", "message k4 live"]);
    expect(increasing(resumed.ids)).toBe(true);
    resumed.stop();
  });
});
