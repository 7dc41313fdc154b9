import { queryRows, type Db } from "@omnilink/db";
import { createGroup, dismissGroup, leaveGroup, removeMembers, setMemberMuted, type StreamItem } from "@omnilink/domain";
import { TRPCClientError } from "@trpc/client";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/env.js";
import { pause, useTestServer } from "./helpers.js";
import { errorCode, few, invariantViolations, isError, jitter, raceUser, sleep, waitFor } from "./race-helpers.js";
import { listen, useClients, type Client } from "./trpc-client.js";
import { openLegacySocket, type Frame } from "./wss-client.js";

/**
 * Membership changes racing a member's own send storm, observed only from outside: frames on /wss,
 * tRPC results and subscriptions, and read-only SQL on the stored rows. message.id and
 * stream_event.id share one sequence, and a group's rows take their ids under the group's lock, so
 * within a group ids follow commit order: "a message after the removal" is a message of the group
 * whose id is greater than the removal event's id.
 *
 * The races only really happen on PostgreSQL (DATABASE_URL set): PGlite runs one transaction at a
 * time, so there these tests just check the same rules without overlap.
 */
const server = useTestServer({
  // The storms must not meet the per-group or /wss frame limits or the subscriber queue cap.
  limits: { ...loadConfig({}).limits, groupSendBurst: 1_000_000, groupSendPerSecond: 1_000_000, maxSubscriberQueue: 1_000_000 },
  sockets: { ...loadConfig({}).sockets, legacyFrameBurst: 1_000_000, legacyFramesPerSecond: 1_000_000, legacyMaxPendingFrames: 1_000_000 },
});
const connect = useClients();

const ROUNDS = 20;
const STORM = 40;

const user = (name: string) => raceUser(server.domain, name);

/** Sends `count` items in `waves` bursts a millisecond or two apart, so sends keep arriving while the race runs. */
async function storm(count: number, waves: number, sendOne: (i: number) => void): Promise<void> {
  const perWave = Math.ceil(count / waves);
  for (let i = 0; i < count; i++) {
    sendOne(i);
    if ((i + 1) % perWave === 0) await sleep(1);
  }
}

// ---- read-only SQL -------------------------------------------------------------------------

async function eventIdOf(db: Db, groupId: string, type: string): Promise<number | undefined> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`select id::int as id from stream_event where group_id = ${groupId} and type = ${type} order by id desc limit 1`,
  );
  return rows[0]?.id;
}

/** Messages of `senderId` (every sender when undefined) in a conversation, in stream order. */
async function storedMessages(db: Db, conversationId: string, senderId?: string): Promise<Array<{ id: number; uuid: string; seq: number; sendId: string }>> {
  return queryRows(
    db,
    sql`select id::int as id, uuid, seq::int as seq, send_id as "sendId" from message
        where conversation_id = ${conversationId} ${senderId ? sql`and send_id = ${senderId}` : sql``} order by id`,
  );
}

async function countStored(db: Db, conversationId: string, senderId: string): Promise<number> {
  const rows = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from message where conversation_id = ${conversationId} and send_id = ${senderId}`);
  return rows[0]?.n ?? 0;
}

// ---- what the sockets saw ----------------------------------------------------------------------

const isMessageOf = (f: Frame, groupId: string, senderId?: string) =>
  typeof f.type === "number" && f.receive_id === groupId && (senderId === undefined || f.send_id === senderId);

/** Messages of the group (of `senderId` when given) a socket received after the group's `eventType` frame. */
function deliveredAfterEvent(frames: Frame[], groupId: string, eventType: string, senderId?: string): { sawEvent: boolean; after: Frame[] } {
  const at = frames.findIndex((f) => f.type === eventType && f.group_id === groupId);
  if (at < 0) return { sawEvent: false, after: [] };
  return { sawEvent: true, after: frames.slice(at + 1).filter((f) => isMessageOf(f, groupId, senderId)) };
}

type Action = "remove" | "mute" | "leave";
const EVENT_OF: Record<Action, string> = { remove: "member.removed", mute: "member.muted", leave: "member.left" };

function act(action: Action, ownerId: string, memberId: string, groupId: string): Promise<unknown> {
  if (action === "remove") return removeMembers(server.domain, ownerId, { groupId, memberIds: [memberId] });
  if (action === "mute") return setMemberMuted(server.domain, ownerId, { groupId, userId: memberId, muted: true });
  return leaveGroup(server.domain, memberId, groupId);
}

describe("(a) remove / mute / leave during the member's own send storm over /wss", () => {
  for (const action of ["remove", "mute", "leave"] as const) {
    it(`${action}: nothing of M stored or delivered after ${EVENT_OF[action]}, every refused frame answered`, { timeout: 120_000 }, async () => {
      const db = server.domain.db;
      const [owner, m, o] = [await user("own"), await user("mem"), await user("obs")];
      const sm = await openLegacySocket(server.url, m.uuid, m.token);
      const so = await openLegacySocket(server.url, o.uuid, o.token);
      await pause();
      const violations: string[] = [];
      let raced = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const tag = `${action} round ${round}`;
        const g = (await createGroup(server.domain, owner.uuid, { name: `race ${round}`, memberIds: [m.uuid, o.uuid] })).uuid;
        // Both sockets hear the group before the storm starts.
        const joined = await waitFor(() => [sm, so].every((s) => s.frames.some((f) => f.type === "group.created" && f.group_id === g)));
        if (!joined) throw new Error(`${tag}: group.created never reached the sockets`);
        const mFrom = sm.frames.length;
        const oFrom = so.frames.length;

        const sending = storm(STORM, 10, (i) => sm.send({ type: 0, content: `${round}:${i}`, receive_id: g }));
        await sleep(2 + jitter(12));
        await act(action, owner.uuid, m.uuid, g);
        await sending;

        const eventId = await eventIdOf(db, g, EVENT_OF[action]);
        if (eventId === undefined) throw new Error(`${tag}: no ${EVENT_OF[action]} event stored`);
        // Every frame is answered: stored, or an error frame on M's socket.
        const errors = () => sm.frames.slice(mFrom).filter(isError);
        const settled = await waitFor(async () => (await countStored(db, g, m.uuid)) + errors().length >= STORM);
        const stored = await storedMessages(db, g, m.uuid);
        if (!settled || stored.length + errors().length !== STORM) {
          violations.push(`${tag}: ${STORM} frames sent, ${stored.length} stored + ${errors().length} error frames`);
        }
        const bad = errors().filter((f) => !(errorCode(f) >= 400 && errorCode(f) < 500));
        if (bad.length > 0) violations.push(`${tag}: error frames not 4xx: ${JSON.stringify(bad.slice(0, 3))}`);
        if (stored.length > 0 && errors().length > 0) raced++;

        const late = stored.filter((s) => s.id > eventId);
        if (late.length > 0) {
          violations.push(`${tag}: ${late.length} message(s) of M stored after ${EVENT_OF[action]} (event id ${eventId}; message ids ${few(late.map((l) => l.id))})`);
        }

        // The observer gets every message of M stored before the event, and none after the event.
        const before = stored.filter((s) => s.id < eventId).length;
        await waitFor(() => so.frames.slice(oFrom).filter((f) => isMessageOf(f, g, m.uuid)).length >= before, 5000);
        await sleep(50);
        const seen = deliveredAfterEvent(so.frames.slice(oFrom), g, EVENT_OF[action], m.uuid);
        if (!seen.sawEvent) violations.push(`${tag}: the observer never got ${EVENT_OF[action]}`);
        if (seen.after.length > 0) violations.push(`${tag}: the observer got ${seen.after.length} message(s) of M after ${EVENT_OF[action]}`);

        for (const p of await invariantViolations(db, [g])) violations.push(`${tag}: ${p}`);
      }
      sm.close();
      so.close();
      console.info(`(a) /wss ${action}: ${raced}/${ROUNDS} rounds had both stored and refused sends`);
      expect(violations).toEqual([]);
    });
  }
});

interface TrpcFailure {
  code: string | undefined;
  httpStatus: number | undefined;
  message: string;
}

function describeFailure(reason: unknown): TrpcFailure {
  if (reason instanceof TRPCClientError) {
    const data = reason.data as { code?: string; httpStatus?: number } | undefined;
    return { code: data?.code, httpStatus: data?.httpStatus, message: reason.message };
  }
  return { code: undefined, httpStatus: undefined, message: String(reason) };
}

const eventOf = (i: StreamItem, groupId: string, type: string) => i.kind === "event" && i.event.type === type && i.event.groupId === groupId;
const messageOf = (i: StreamItem, groupId: string, senderId: string) => i.kind === "message" && i.message.receiveId === groupId && i.message.sendId === senderId;

describe("(a) remove / mute / leave during the member's own send storm over tRPC", () => {
  for (const action of ["remove", "mute", "leave"] as const) {
    it(`${action}: every messages.send resolves with a message before ${EVENT_OF[action]} or fails 4xx`, { timeout: 120_000 }, async () => {
      const db = server.domain.db;
      const [owner, m, o] = [await user("town"), await user("tmem"), await user("tobs")];
      const mc: Client = connect(server.url, m.token);
      const observer = listen(connect(server.url, o.token));
      await pause();
      const violations: string[] = [];
      let raced = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const tag = `${action} round ${round}`;
        const g = (await createGroup(server.domain, owner.uuid, { name: `trpc race ${round}`, memberIds: [m.uuid, o.uuid] })).uuid;
        if (!(await waitFor(() => observer.items.some((i) => eventOf(i, g, "group.created"))))) throw new Error(`${tag}: group.created never reached the observer`);
        const oFrom = observer.items.length;

        const calls: Array<Promise<Awaited<ReturnType<Client["messages"]["send"]["mutate"]>>>> = [];
        const sending = storm(STORM, 10, (i) => {
          const call = mc.messages.send.mutate({ receiveId: g, content: `${round}:${i}` });
          // Settled below, after the action: mark the refusals as handled now.
          call.catch(() => {});
          calls.push(call);
        });
        await sleep(3 + jitter(15));
        await act(action, owner.uuid, m.uuid, g);
        await sending;
        const results = await Promise.allSettled(calls);

        const eventId = await eventIdOf(db, g, EVENT_OF[action]);
        if (eventId === undefined) throw new Error(`${tag}: no ${EVENT_OF[action]} event stored`);
        const stored = await storedMessages(db, g, m.uuid);
        const storedIds = new Map(stored.map((s) => [s.uuid, s.id]));
        const fulfilled = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.message] : []));
        const failures = results.flatMap((r) => (r.status === "rejected" ? [describeFailure(r.reason)] : []));
        if (fulfilled.length > 0 && failures.length > 0) raced++;
        const missing = fulfilled.filter((message) => !storedIds.has(message.uuid));
        if (missing.length > 0) violations.push(`${tag}: ${missing.length} send(s) resolved with a message that is not stored`);
        const resolvedLate = fulfilled.filter((message) => (storedIds.get(message.uuid) ?? 0) > eventId).map((message) => storedIds.get(message.uuid) ?? 0);
        if (resolvedLate.length > 0) {
          violations.push(`${tag}: ${resolvedLate.length} send(s) resolved with a message after ${EVENT_OF[action]} (event id ${eventId}; ids ${few(resolvedLate)})`);
        }
        const wrong = failures.filter((f) => f.code === "INTERNAL_SERVER_ERROR" || !(f.httpStatus !== undefined && f.httpStatus >= 400 && f.httpStatus < 500));
        if (wrong.length > 0) violations.push(`${tag}: ${wrong.length} send(s) failed without a 4xx: ${JSON.stringify(wrong.slice(0, 3))}`);
        if (stored.length !== fulfilled.length) violations.push(`${tag}: ${stored.length} stored but ${fulfilled.length} sends resolved`);
        const late = stored.filter((s) => s.id > eventId);
        if (late.length > 0) {
          violations.push(`${tag}: ${late.length} message(s) of M stored after ${EVENT_OF[action]} (event id ${eventId}; ids ${few(late.map((l) => l.id))})`);
        }

        const before = stored.filter((s) => s.id < eventId).length;
        await waitFor(() => observer.items.slice(oFrom).filter((i) => messageOf(i, g, m.uuid)).length >= before, 5000);
        await sleep(50);
        const mine = observer.items.slice(oFrom);
        const at = mine.findIndex((i) => eventOf(i, g, EVENT_OF[action]));
        if (at < 0) violations.push(`${tag}: the observer never got ${EVENT_OF[action]}`);
        else {
          const after = mine.slice(at + 1).filter((i) => messageOf(i, g, m.uuid));
          if (after.length > 0) violations.push(`${tag}: the observer got ${after.length} message(s) of M after ${EVENT_OF[action]}`);
        }
        for (const p of await invariantViolations(db, [g])) violations.push(`${tag}: ${p}`);
      }
      observer.stop();
      console.info(`(a) tRPC ${action}: ${raced}/${ROUNDS} rounds had both stored and refused sends`);
      expect(violations).toEqual([]);
    });
  }
});

describe("(b) dismissal during a storm of several members over /wss", () => {
  it("nothing stored or delivered after group.dismissed; every refused frame answered", { timeout: 120_000 }, async () => {
    const db = server.domain.db;
    const owner = await user("down");
    const senders = [await user("ds1"), await user("ds2"), await user("ds3")];
    const o = await user("dobs");
    const sockets = await Promise.all(senders.map((s) => openLegacySocket(server.url, s.uuid, s.token)));
    const so = await openLegacySocket(server.url, o.uuid, o.token);
    const everyone = [...sockets, so];
    await pause();
    const violations: string[] = [];
    const PER_SENDER = 20;
    for (let round = 0; round < ROUNDS; round++) {
      const tag = `dismiss round ${round}`;
      const g = (await createGroup(server.domain, owner.uuid, { name: `dismiss ${round}`, memberIds: [...senders.map((s) => s.uuid), o.uuid] })).uuid;
      if (!(await waitFor(() => everyone.every((s) => s.frames.some((f) => f.type === "group.created" && f.group_id === g))))) {
        throw new Error(`${tag}: group.created never reached the sockets`);
      }
      const from = everyone.map((s) => s.frames.length);

      const sending = Promise.all(
        sockets.map((s, k) => storm(PER_SENDER, 8, (i) => s.send({ type: 0, content: `${round}:${k}:${i}`, receive_id: g }))),
      );
      await sleep(2 + jitter(12));
      await dismissGroup(server.domain, owner.uuid, g);
      await sending;

      const eventId = await eventIdOf(db, g, "group.dismissed");
      if (eventId === undefined) throw new Error(`${tag}: no group.dismissed event stored`);
      for (const [k, s] of sockets.entries()) {
        const errors = () => s.frames.slice(from[k]).filter(isError);
        const sender = senders[k]!.uuid;
        await waitFor(async () => (await countStored(db, g, sender)) + errors().length >= PER_SENDER);
        const stored = await countStored(db, g, sender);
        if (stored + errors().length !== PER_SENDER) violations.push(`${tag}: sender ${k} sent ${PER_SENDER}, ${stored} stored + ${errors().length} error frames`);
        const bad = errors().filter((f) => !(errorCode(f) >= 400 && errorCode(f) < 500));
        if (bad.length > 0) violations.push(`${tag}: sender ${k}: error frames not 4xx: ${JSON.stringify(bad.slice(0, 3))}`);
      }
      const all = await storedMessages(db, g);
      const late = all.filter((x) => x.id > eventId);
      if (late.length > 0) violations.push(`${tag}: ${late.length} message(s) stored after group.dismissed (event id ${eventId}; ids ${few(late.map((l) => l.id))})`);

      const before = all.length - late.length;
      await waitFor(() => so.frames.slice(from[senders.length]).filter((f) => isMessageOf(f, g)).length >= before, 5000);
      await sleep(50);
      for (const [k, s] of everyone.entries()) {
        const seen = deliveredAfterEvent(s.frames.slice(from[k]), g, "group.dismissed");
        if (!seen.sawEvent) violations.push(`${tag}: socket ${k} never got group.dismissed`);
        if (seen.after.length > 0) violations.push(`${tag}: socket ${k} got ${seen.after.length} message(s) after group.dismissed`);
      }
      for (const p of await invariantViolations(db, [g])) violations.push(`${tag}: ${p}`);
    }
    everyone.forEach((s) => s.close());
    expect(violations).toEqual([]);
  });
});

describe("(d) poisoned sends inside a storm of 200", () => {
  it("frames the database cannot store fail alone, with a 4xx to their sender; all 200 of C's are stored and delivered", { timeout: 120_000 }, async () => {
    const db = server.domain.db;
    const [owner, b, c, d] = [await user("pown"), await user("pb"), await user("pc"), await user("pd")];
    const sb = await openLegacySocket(server.url, b.uuid, b.token);
    const sc = await openLegacySocket(server.url, c.uuid, c.token);
    const sd = await openLegacySocket(server.url, d.uuid, d.token);
    await pause();
    const violations: string[] = [];
    const TOTAL = 200;
    for (let round = 0; round < 3; round++) {
      const tag = `poison round ${round}`;
      const g = (await createGroup(server.domain, owner.uuid, { name: `poison ${round}`, memberIds: [b.uuid, c.uuid, d.uuid] })).uuid;
      if (!(await waitFor(() => [sb, sc, sd].every((s) => s.frames.some((f) => f.type === "group.created" && f.group_id === g))))) {
        throw new Error(`${tag}: group.created never reached the sockets`);
      }
      const [bFrom, cFrom, dFrom] = [sb.frames.length, sc.frames.length, sd.frames.length];
      // NUL cannot be stored in a PostgreSQL text/varchar; each of these reaches the database unless
      // refused before. The last is longer than message.file_name (varchar 255).
      const poisoned: Frame[] = [
        { type: 0, content: `nul \u0000 in the content ${round}`, receive_id: g },
        { type: 2, url: "/static/files/x.pdf", file_name: "a\u0000b.pdf", file_size: "1KB", file_type: "application/pdf", receive_id: g },
        { type: 1, url: "/static/files/\u0000.png", receive_id: g },
        { type: 0, content: "mention", mentioned_user_ids: ["U\u0000x"], receive_id: g },
        { type: 2, url: "/static/files/y.pdf", file_name: `${"f".repeat(256)}.pdf`, file_size: "1KB", file_type: "application/pdf", receive_id: g },
      ];
      let next = 0;
      await storm(TOTAL, 10, (i) => {
        sc.send({ type: 0, content: `c ${round}:${i}`, receive_id: g });
        if (i % 40 === 20 && next < poisoned.length) sb.send(poisoned[next++]!);
      });
      const cErrors = () => sc.frames.slice(cFrom).filter(isError);
      const bErrors = () => sb.frames.slice(bFrom).filter(isError);
      await waitFor(async () => (await countStored(db, g, c.uuid)) + cErrors().length >= TOTAL && bErrors().length >= poisoned.length);
      const cStored = await countStored(db, g, c.uuid);
      if (cStored !== TOTAL) violations.push(`${tag}: ${cStored} of C's ${TOTAL} messages stored; C got ${cErrors().length} error frames, e.g. ${JSON.stringify(cErrors()[0])}`);
      const bStored = await countStored(db, g, b.uuid);
      if (bStored !== 0) violations.push(`${tag}: ${bStored} of B's poisoned frames stored`);
      if (bErrors().length !== poisoned.length) violations.push(`${tag}: B sent ${poisoned.length} poisoned frames, got ${bErrors().length} error frames`);
      const bad = bErrors().filter((f) => !(errorCode(f) >= 400 && errorCode(f) < 500));
      if (bad.length > 0) violations.push(`${tag}: B's error frames not 4xx: ${JSON.stringify(bad)}`);
      const delivered = () => sd.frames.slice(dFrom).filter((f) => isMessageOf(f, g, c.uuid)).length;
      await waitFor(() => delivered() >= cStored, 5000);
      if (delivered() !== TOTAL) violations.push(`${tag}: D received ${delivered()} of C's ${TOTAL} messages`);
      for (const p of await invariantViolations(db, [g])) violations.push(`${tag}: ${p}`);
    }
    [sb, sc, sd].forEach((s) => s.close());
    expect(violations).toEqual([]);
  });
});
