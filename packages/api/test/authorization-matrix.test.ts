/**
 * Authorization matrix of the group-related procedures (the rules of ARCHITECTURE.md, "Authorization"): every procedure crossed
 * with every relation a caller can have to the group. Each cell runs on a group of its own, so no
 * cell depends on another; an allowed cell checks what the call returned (and what it changed), a
 * refused one checks the tRPC code and that the group is unchanged.
 */
import { createTokenService, userSignals, type EphemeralEvent } from "@omnilink/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestContext, type TestContext } from "../../domain/test/helpers.js";
import { callerFor, newActor, trpcCode, type Actor, type Caller } from "./fixtures.js";

const ROLES = ["no token", "stranger", "member", "muted", "admin", "left", "removed", "owner"] as const;
type Role = (typeof ROLES)[number];

type Code = "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_REQUEST" | "CONFLICT";
/** "allow", one refusal code, or several when the rules fix the refusal but not its code. */
type Expected = "allow" | readonly Code[];

/** The secret createTestContext signs with (domain/test/helpers.ts). */
const TEST_SECRET = "test-secret-0123456789abcdef0123456789";

const LETTERS: Record<string, Code> = { U: "UNAUTHORIZED", F: "FORBIDDEN", N: "NOT_FOUND", B: "BAD_REQUEST", C: "CONFLICT" };

/** "U F A A A F F A": one entry per role in ROLES order; A allow, F|N means either code. */
function parseRow(row: string): Record<Role, Expected> {
  const cells = row.trim().split(/\s+/);
  if (cells.length !== ROLES.length) throw new Error(`row "${row}" has ${cells.length} cells`);
  return Object.fromEntries(
    ROLES.map((role, i) => {
      const cell = cells[i] ?? "";
      if (cell === "A") return [role, "allow"];
      return [
        role,
        cell.split("|").map((letter) => {
          const code = LETTERS[letter];
          if (!code) throw new Error(`unknown cell "${cell}"`);
          return code;
        }),
      ];
    }),
  ) as Record<Role, Expected>;
}

let t: TestContext;
let anonymous: Caller;
/** The same users play their role in every cell's group; applicant and invitee are outsiders used as targets. */
let users: Record<Exclude<Role, "no token"> | "applicant" | "invitee", Actor>;

interface Fixture {
  groupId: string;
  /** The group's last seq: 1 (owner) and 2 (member) before `left`/`removed` went, 3 (owner) after. */
  lastSeq: number;
  /** A pending join request of `applicant` (only when the procedure asked for one). */
  applyId: string;
}

/**
 * A fresh group: owner, member, muted member, admin (appointed by the owner); `left` left and
 * `removed` was removed after the first two messages; the stranger never belonged. Built through
 * the router itself.
 */
async function newGroup(pendingRequest: boolean): Promise<Fixture> {
  const { owner, member, muted, admin, left, removed, applicant } = users;
  const group = await owner.api.groups.create({ name: "matrix", memberIds: [member.uuid, muted.uuid, admin.uuid, left.uuid, removed.uuid] });
  const groupId = group.uuid;
  await owner.api.groups.setMuted({ groupId, userId: muted.uuid, muted: true });
  await owner.api.groups.setAdmin({ groupId, userId: admin.uuid, admin: true });
  await owner.api.messages.send({ receiveId: groupId, content: "one" });
  await member.api.messages.send({ receiveId: groupId, content: "two" });
  await left.api.groups.leave({ groupId });
  await owner.api.groups.removeMembers({ groupId, memberIds: [removed.uuid] });
  const { message } = await owner.api.messages.send({ receiveId: groupId, content: "three" });
  const applyId = pendingRequest ? (await applicant.api.groups.requestJoin({ groupId, message: "let me in" })).applyId : "";
  return { groupId, lastSeq: message.seq, applyId };
}

let shared: Promise<Fixture> | undefined;
/** One group (with a pending request) for all the read-only cells. */
function sharedGroup(): Promise<Fixture> {
  shared ??= newGroup(true);
  return shared;
}

/** The uuid of the group's message at `seq`, as the owner sees it. */
async function messageAt(f: Fixture, seq: number): Promise<string> {
  const page = await users.owner.api.messages.history({ peerId: f.groupId });
  const m = page.items.find((i) => i.seq === seq);
  if (!m) throw new Error(`no message at seq ${seq}`);
  return m.uuid;
}

/** What the owner sees of the group; a refused call must leave it exactly as it was. */
async function snapshot(f: Fixture) {
  const api = users.owner.api;
  const { name, notice, ownerId, memberCnt, status, addMode, avatar, muteAll } = await api.groups.info({ groupId: f.groupId });
  const members = await api.groups.members({ groupId: f.groupId });
  const requests = await api.groups.joinRequests({ groupId: f.groupId });
  const history = await api.messages.history({ peerId: f.groupId });
  return {
    info: { name, notice, ownerId, memberCnt, status, addMode, avatar, muteAll },
    members: members.map((m) => [m.userId, m.role, m.muted]),
    requests: requests.map((r) => [r.applyId, r.userId]),
    messages: history.items.map((m) => [m.seq, m.sendId, m.content]),
  };
}

/** Whether a user currently counts as a member: a member may read the group's info. */
async function canRead(actor: Actor, groupId: string): Promise<boolean> {
  return actor.api.groups.info({ groupId }).then(
    () => true,
    () => false,
  );
}

interface Procedure {
  name: string;
  expected: Record<Role, Expected>;
  pendingRequest: boolean;
  /** A query: its cells may share one group, since none of them changes it. */
  readOnly: boolean;
  call(api: Caller, f: Fixture, me: string): Promise<unknown>;
  /** Calls the procedure; resolves to the checks of its (successful) result. */
  run(api: Caller, f: Fixture, me: string): Promise<() => Promise<void>>;
}

function procedure<T>(
  name: string,
  row: string,
  call: (api: Caller, f: Fixture, me: string) => Promise<T>,
  check: (result: T, f: Fixture, me: string) => void | Promise<void>,
  options: { pendingRequest?: boolean; readOnly?: boolean } = {},
): Procedure {
  return {
    name,
    expected: parseRow(row),
    pendingRequest: options.pendingRequest ?? false,
    readOnly: options.readOnly ?? false,
    call,
    run: async (api, f, me) => {
      const result = await call(api, f, me);
      return async () => {
        await check(result, f, me);
      };
    },
  };
}

/**
 * Rows list the roles in ROLES order: no token, stranger, member, muted, admin, left, removed, owner.
 * A allow, U UNAUTHORIZED, F FORBIDDEN, N NOT_FOUND, B BAD_REQUEST, C CONFLICT.
 */
const PROCEDURES: Procedure[] = [
  procedure(
    "groups.info",
    "U F A A A F F A",
    (api, f) => api.groups.info({ groupId: f.groupId }),
    (info, f) => {
      expect(info).toMatchObject({ uuid: f.groupId, ownerId: users.owner.uuid, memberCnt: 4, status: 0, muteAll: false });
    },
    { readOnly: true },
  ),
  procedure(
    "groups.members",
    "U F A A A F F A",
    (api, f) => api.groups.members({ groupId: f.groupId }),
    (members) => {
      expect(members.map((m) => [m.userId, m.role, m.muted])).toEqual([
        [users.owner.uuid, "owner", false],
        [users.member.uuid, "member", false],
        [users.muted.uuid, "member", true],
        [users.admin.uuid, "admin", false],
      ]);
    },
    { readOnly: true },
  ),
  procedure(
    "groups.invite",
    // The domain counts a muted member as active (ACTIVE_MEMBER_STATUSES = normal, muted), so it
    // may invite; only sending needs a normal (unmuted) membership.
    "U F A A A F F A",
    (api, f) => api.groups.invite({ groupId: f.groupId, memberIds: [users.invitee.uuid] }),
    async (result, f) => {
      expect(result).toEqual({ added: [users.invitee.uuid], requested: [] });
      expect(await canRead(users.invitee, f.groupId)).toBe(true);
    },
  ),
  procedure(
    "groups.requestJoin",
    "U A C C C A A C",
    (api, f) => api.groups.requestJoin({ groupId: f.groupId, message: "again please" }),
    async (result, f, me) => {
      expect(result.applyId).toMatch(/^A/);
      const requests = await users.owner.api.groups.joinRequests({ groupId: f.groupId });
      expect(requests.map((r) => [r.applyId, r.userId, r.message])).toEqual([[result.applyId, me, "again please"]]);
      // Asking is not joining.
      expect(await users.owner.api.groups.members({ groupId: f.groupId })).not.toContainEqual(expect.objectContaining({ userId: me }));
    },
  ),
  procedure(
    "groups.joinRequests",
    "U F F F A F F A",
    (api, f) => api.groups.joinRequests({ groupId: f.groupId }),
    (requests, f) => {
      expect(requests.map((r) => [r.applyId, r.userId])).toEqual([[f.applyId, users.applicant.uuid]]);
    },
    { pendingRequest: true, readOnly: true },
  ),
  procedure(
    "groups.approve",
    "U F F F A F F A",
    (api, f) => api.groups.approve({ applyId: f.applyId, groupId: f.groupId }),
    async (decision, f) => {
      expect(decision).toEqual({ changed: true, joined: true, applyId: f.applyId, groupId: f.groupId, applicantId: users.applicant.uuid });
      expect(await canRead(users.applicant, f.groupId)).toBe(true);
    },
    { pendingRequest: true },
  ),
  procedure(
    "groups.reject",
    "U F F F A F F A",
    (api, f) => api.groups.reject({ applyId: f.applyId, groupId: f.groupId }),
    async (decision, f) => {
      expect(decision).toEqual({ changed: true, joined: false, applyId: f.applyId, groupId: f.groupId, applicantId: users.applicant.uuid });
      expect(await users.owner.api.groups.joinRequests({ groupId: f.groupId })).toEqual([]);
      expect(await canRead(users.applicant, f.groupId)).toBe(false);
    },
    { pendingRequest: true },
  ),
  procedure(
    "groups.leave",
    // Non-members get the legacy 400 非群成员 (legacy-contract §2.22); the owner 403.
    "U B A A A B B F",
    (api, f) => api.groups.leave({ groupId: f.groupId }),
    async (result, f, me) => {
      expect(result).toBeUndefined();
      const members = await users.owner.api.groups.members({ groupId: f.groupId });
      expect(members.map((m) => m.userId)).not.toContain(me);
      expect(members).toHaveLength(3);
    },
  ),
  procedure(
    "groups.removeMembers",
    "U F F F A F F A",
    (api, f) => api.groups.removeMembers({ groupId: f.groupId, memberIds: [users.member.uuid] }),
    async (result, f) => {
      expect(result).toEqual({ removed: [users.member.uuid] });
      expect(await canRead(users.member, f.groupId)).toBe(false);
    },
  ),
  procedure(
    "groups.setMuted",
    "U F F F A F F A",
    (api, f) => api.groups.setMuted({ groupId: f.groupId, userId: users.member.uuid, muted: true }),
    async (result, f) => {
      expect(result).toEqual({ changed: true });
      expect(await trpcCode(users.member.api.messages.send({ receiveId: f.groupId, content: "muted now" }))).toBe("FORBIDDEN");
    },
  ),
  procedure(
    "groups.transferOwnership",
    "U F F F F F F A",
    (api, f) => api.groups.transferOwnership({ groupId: f.groupId, newOwnerId: users.member.uuid }),
    async (result, f) => {
      expect(result).toBeUndefined();
      expect((await users.member.api.groups.info({ groupId: f.groupId })).ownerId).toBe(users.member.uuid);
    },
  ),
  procedure(
    "groups.update",
    "U F F F A F F A",
    (api, f) => api.groups.update({ groupId: f.groupId, name: "renamed", notice: "new rules" }),
    async (info, f) => {
      expect(info).toMatchObject({ uuid: f.groupId, name: "renamed", notice: "new rules" });
      expect(await users.member.api.groups.info({ groupId: f.groupId })).toMatchObject({ name: "renamed", notice: "new rules" });
    },
  ),
  procedure(
    "groups.dismiss",
    "U F F F F F F A",
    (api, f) => api.groups.dismiss({ groupId: f.groupId }),
    async (result, f) => {
      expect(result).toBeUndefined();
      expect((await users.owner.api.groups.info({ groupId: f.groupId })).status).toBe(2);
      expect(await canRead(users.member, f.groupId)).toBe(false);
    },
  ),
  procedure(
    "groups.removeMembers (an admin)",
    // An admin acts on ordinary members only; removing an admin is the owner's.
    "U F F F F F F A",
    (api, f) => api.groups.removeMembers({ groupId: f.groupId, memberIds: [users.admin.uuid] }),
    async (result, f) => {
      expect(result).toEqual({ removed: [users.admin.uuid] });
      expect(await canRead(users.admin, f.groupId)).toBe(false);
    },
  ),
  procedure(
    "groups.setAdmin",
    "U F F F F F F A",
    (api, f) => api.groups.setAdmin({ groupId: f.groupId, userId: users.member.uuid, admin: true }),
    async (result, f) => {
      expect(result).toEqual({ changed: true });
      const members = await users.member.api.groups.members({ groupId: f.groupId });
      expect(members.find((m) => m.userId === users.member.uuid)?.role).toBe("admin");
    },
  ),
  procedure(
    "groups.setAdmin (revoke)",
    "U F F F F F F A",
    (api, f) => api.groups.setAdmin({ groupId: f.groupId, userId: users.admin.uuid, admin: false }),
    async (result, f) => {
      expect(result).toEqual({ changed: true });
      expect(await trpcCode(users.admin.api.groups.joinRequests({ groupId: f.groupId }))).toBe("FORBIDDEN");
    },
  ),
  procedure(
    "groups.setMuteAll",
    "U F F F A F F A",
    (api, f) => api.groups.setMuteAll({ groupId: f.groupId, muted: true }),
    async (result, f) => {
      expect(result).toEqual({ changed: true });
      expect((await users.member.api.groups.info({ groupId: f.groupId })).muteAll).toBe(true);
      expect(await trpcCode(users.member.api.messages.send({ receiveId: f.groupId, content: "all muted" }))).toBe("FORBIDDEN");
      expect((await users.admin.api.messages.send({ receiveId: f.groupId, content: "admin may" })).message.seq).toBe(f.lastSeq + 1);
    },
  ),
  procedure(
    "messages.send",
    "U F A F A F F A",
    (api, f) => api.messages.send({ receiveId: f.groupId, content: "hello" }),
    async (result, f, me) => {
      expect(result.duplicate).toBe(false);
      expect(result.message).toMatchObject({ conversationId: f.groupId, seq: f.lastSeq + 1, sendId: me, content: "hello" });
      expect((await users.muted.api.messages.history({ peerId: f.groupId })).lastSeq).toBe(f.lastSeq + 1);
    },
  ),
  procedure(
    "messages.history",
    "U F A A A F F A",
    (api, f) => api.messages.history({ peerId: f.groupId }),
    (page, f) => {
      expect(page.lastSeq).toBe(f.lastSeq);
      expect(page.hasMore).toBe(false);
      expect(page.items.map((m) => [m.seq, m.content])).toEqual([
        [1, "one"],
        [2, "two"],
        [3, "three"],
      ]);
    },
    { readOnly: true },
  ),
  procedure(
    "messages.historyPage",
    "U F A A A F F A",
    (api, f) => api.messages.historyPage({ peerId: f.groupId, page: 1, pageSize: 20 }),
    (items) => {
      expect(items.map((m) => [m.seq, m.content])).toEqual([
        [1, "one"],
        [2, "two"],
        [3, "three"],
      ]);
    },
    { readOnly: true },
  ),
  procedure(
    "messages.receipts",
    // Only the sender sees who has read a message (the owner's "three" here), and only while an
    // active member; everyone else, members and admins included, is refused.
    "U F F F F F F A",
    async (api, f) => api.messages.receipts({ messageId: await messageAt(f, f.lastSeq) }),
    (r, f) => {
      // Counted: the active members but the sender. member read up to 2 (by sending), muted and admin nothing.
      expect([r.seq, r.readCount, r.unreadCount, r.readers, r.unread.map((u) => u.userId).sort()]).toEqual([
        f.lastSeq,
        0,
        3,
        [],
        [users.member.uuid, users.muted.uuid, users.admin.uuid].sort(),
      ]);
    },
    { readOnly: true },
  ),
  procedure(
    "messages.readCounts",
    // Any active member, for their own messages only.
    "U F A A A F F A",
    (api, f) => api.messages.readCounts({ peerId: f.groupId, seqs: [1, 2, 3] }),
    (r, _f, me) => {
      const expected: Record<string, Array<{ seq: number; readCount: number }>> = {
        // "one" (seq 1) was read by member (who sent seq 2); "three" by nobody.
        [users.owner.uuid]: [
          { seq: 1, readCount: 1 },
          { seq: 3, readCount: 0 },
        ],
        // "two": the owner read it (by sending "three").
        [users.member.uuid]: [{ seq: 2, readCount: 1 }],
        [users.muted.uuid]: [],
        [users.admin.uuid]: [],
      };
      expect(r).toEqual({ members: 3, counts: expected[me] });
    },
    { readOnly: true },
  ),
  procedure(
    "messages.recall (a member's message)",
    // The sender within the window, the owner, an admin (an ordinary member's message); nobody else.
    "U F A F A F F A",
    async (api, f) => api.messages.recall({ messageId: await messageAt(f, 2) }),
    async (result, f, me) => {
      expect(result).toMatchObject({ changed: true, message: { conversationId: f.groupId, seq: 2, content: "", recalledBy: me } });
      const page = await users.owner.api.messages.history({ peerId: f.groupId });
      expect(page.items.map((m) => [m.seq, m.content, m.recalledBy])).toEqual([
        [1, "one", null],
        [2, "", me],
        [3, "three", null],
      ]);
    },
  ),
  procedure(
    "messages.recall (the owner's message)",
    // Only the owner (an admin is refused: the owner's message is not an ordinary member's).
    "U F F F F F F A",
    async (api, f) => api.messages.recall({ messageId: await messageAt(f, 1) }),
    (result, f, me) => {
      expect(result).toMatchObject({ changed: true, message: { conversationId: f.groupId, seq: 1, content: "", recalledBy: me } });
    },
  ),
  procedure(
    "messages.search (in the group)",
    "U F A A A F F A",
    (api, f) => api.messages.search({ peerId: f.groupId, query: "T" }),
    (page, f) => {
      expect(page.items.map((h) => [h.peerId, h.message.seq, h.message.content])).toEqual([
        [f.groupId, 3, "three"],
        [f.groupId, 2, "two"],
      ]);
    },
    { readOnly: true },
  ),
  procedure(
    "messages.search (all conversations)",
    // Anyone may search; only what they may read comes back (nothing of the group once gone).
    "U A A A A A A A",
    (api) => api.messages.search({ query: "three" }),
    async (page, _f, me) => {
      const member = [users.owner.uuid, users.member.uuid, users.muted.uuid, users.admin.uuid].includes(me);
      if (!member) expect(page.items).toEqual([]);
      else {
        // Other cells' groups hold a "three" too (newer ones first): every hit is one the caller may read.
        expect(page.items.length).toBeGreaterThan(0);
        expect(new Set(page.items.map((h) => h.message.content))).toEqual(new Set(["three"]));
        const caller = [users.owner, users.member, users.muted, users.admin].find((u) => u.uuid === me)!;
        for (const hit of page.items) expect(await canRead(caller, hit.peerId)).toBe(true);
      }
    },
    { readOnly: true },
  ),
  procedure(
    "sessions.open",
    "U F A A A F F A",
    (api, f) => api.sessions.open({ peerId: f.groupId }),
    (session, f) => {
      expect(session).toMatchObject({ peerId: f.groupId, peerType: "G", peerName: "matrix", lastSeq: f.lastSeq });
    },
  ),
  procedure(
    "sessions.checkAllowed",
    "U F A A A F F A",
    (api, f) => api.sessions.checkAllowed({ peerId: f.groupId }),
    (allowed) => {
      expect(allowed).toBe(true);
    },
    { readOnly: true },
  ),
  procedure(
    "sessions.markRead",
    // Only active members may move a group read position. A left or removed member still has its
    // session row, but must learn nothing more of the group (not even how far it went).
    "U F A A A F F A",
    (api, f) => api.sessions.markRead({ peerId: f.groupId }),
    (read, f) => {
      expect(read).toEqual({ readSeq: f.lastSeq, unreadCount: 0 });
    },
  ),
];

/** A live connection of `userId` (ephemeral events only), hearing `groupId` once the call resolves. */
async function connect(userId: string, groupId: string) {
  const abort = new AbortController();
  const events: EphemeralEvent[] = [];
  const running = (async () => {
    for await (const e of userSignals(t.ctx, userId, { signal: abort.signal })) events.push(e);
  })();
  while (!t.ctx.dispatcher.localMembers(groupId).includes(userId)) await new Promise((r) => setTimeout(r, 5));
  return {
    events,
    async close() {
      abort.abort();
      await running;
    },
  };
}

PROCEDURES.push(
  procedure(
    "groups.presence",
    "U F A A A F F A",
    (api, f) => api.groups.presence({ groupId: f.groupId }),
    async (result, f) => {
      // Only members are named (a connection of the member may still be in its grace period from
      // an earlier cell); once the member has a live connection, the answer names them.
      expect(result.online.every((id) => [users.owner.uuid, users.member.uuid, users.muted.uuid, users.admin.uuid].includes(id))).toBe(true);
      const live = await connect(users.member.uuid, f.groupId);
      try {
        expect(await users.muted.api.groups.presence({ groupId: f.groupId })).toEqual({ online: [users.member.uuid] });
      } finally {
        await live.close();
      }
    },
    { readOnly: true },
  ),
  procedure(
    "live.typing",
    // Whoever may send may say they are typing (a muted member may not).
    "U F A F A F F A",
    async (api, f, me) => {
      const witness = await connect(me === users.owner.uuid ? users.member.uuid : users.owner.uuid, f.groupId);
      try {
        const result = await api.live.typing({ peerId: f.groupId, typing: true });
        const deadline = Date.now() + 5000;
        while (!witness.events.some((e) => e.kind === "typing") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        return { result, heard: witness.events.filter((e) => e.kind === "typing") };
      } finally {
        await witness.close();
      }
    },
    ({ result, heard }, f, me) => {
      expect(result).toEqual({ ttlMs: 6000 });
      expect(heard).toEqual([{ kind: "typing", groupId: f.groupId, userId: me, typing: true, ttlMs: 6000 }]);
    },
  ),
);

const describeExpected = (e: Expected) => (e === "allow" ? "allow" : e.join(" or "));

const CELLS = PROCEDURES.flatMap((procedure) =>
  ROLES.map((role) => ({ procedure: procedure.name, role, outcome: describeExpected(procedure.expected[role]), spec: procedure })),
);

beforeAll(async () => {
  t = await createTestContext();
  anonymous = await callerFor(t.ctx, null);
  const names = ["owner", "member", "muted", "admin", "left", "removed", "stranger", "applicant", "invitee"] as const;
  const actors = await Promise.all(names.map((name) => newActor(t.ctx, name)));
  users = Object.fromEntries(names.map((name, i) => [name, actors[i]])) as typeof users;
});

afterAll(async () => {
  await t?.dispose();
});

describe("authorization matrix", () => {
  it("covers every role for every procedure", () => {
    expect(CELLS).toHaveLength(PROCEDURES.length * ROLES.length);
    expect(new Set(PROCEDURES.map((p) => p.name)).size).toBe(PROCEDURES.length);
  });

  it.each(CELLS)("$procedure × $role → $outcome", async ({ spec, role }) => {
    const f = spec.readOnly ? await sharedGroup() : await newGroup(spec.pendingRequest);
    const expected = spec.expected[role];
    const api = role === "no token" ? anonymous : users[role].api;
    const me = role === "no token" ? "" : users[role].uuid;
    if (expected === "allow") {
      const check = await spec.run(api, f, me);
      await check();
      return;
    }
    // A refused mutation must change nothing (a query changes nothing anyway).
    const before = spec.readOnly ? undefined : await snapshot(f);
    const code = await trpcCode(spec.call(api, f, me));
    expect(expected).toContain(code);
    if (before) expect(await snapshot(f)).toEqual(before);
  });
});

describe("identity comes from the token only", () => {
  it("treats a malformed, foreign-key, expired or foreign-issuer token as no token", async () => {
    const f = await newGroup(false);
    const { owner } = users;
    const identity = { uuid: owner.uuid, username: "owner" };
    const wrongKey = await createTokenService({ secret: "another-secret-0123456789abcdef0123", issuer: "OmniLink", expireHours: 1 }).sign(identity);
    const sameKeyExpired = await createTokenService({ secret: TEST_SECRET, issuer: "OmniLink", expireHours: -1 }).sign(identity);
    const sameKeyOtherIssuer = await createTokenService({ secret: TEST_SECRET, issuer: "someone-else", expireHours: 1 }).sign(identity);
    // The control: the same key and issuer make a token that works.
    const valid = await createTokenService({ secret: TEST_SECRET, issuer: "OmniLink", expireHours: 1 }).sign(identity);
    expect((await (await callerFor(t.ctx, valid)).groups.info({ groupId: f.groupId })).uuid).toBe(f.groupId);
    for (const token of ["not-a-jwt", wrongKey, sameKeyExpired, sameKeyOtherIssuer, `${owner.token}x`]) {
      const api = await callerFor(t.ctx, token);
      expect(await trpcCode(api.groups.info({ groupId: f.groupId }))).toBe("UNAUTHORIZED");
      expect(await trpcCode(api.groups.dismiss({ groupId: f.groupId }))).toBe("UNAUTHORIZED");
    }
    expect((await owner.api.groups.info({ groupId: f.groupId })).status).toBe(0);
  });

  it("ignores identity fields in the input: a member cannot send as, or act as, the owner", async () => {
    const f = await newGroup(false);
    const { owner, member } = users;
    const forged = { receiveId: f.groupId, content: "forged", sendId: owner.uuid, userId: owner.uuid, ownerId: owner.uuid };
    const { message } = await member.api.messages.send(forged);
    expect(message.sendId).toBe(member.uuid);
    const dismiss = { groupId: f.groupId, ownerId: owner.uuid, userId: owner.uuid };
    expect(await trpcCode(member.api.groups.dismiss(dismiss))).toBe("FORBIDDEN");
  });
});
