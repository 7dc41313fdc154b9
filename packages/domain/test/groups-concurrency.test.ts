import { ContactType, contactApplies, contacts, groups, sessions, streamEvents } from "@omnilink/db";
import { and, eq, gt, inArray, max } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DomainContext } from "../src/context.js";
import { AppError } from "../src/errors.js";
import {
  applyToJoinGroup,
  approveJoinRequest,
  createGroup,
  dismissGroup,
  inviteMembers,
  leaveGroup,
  rejectJoinRequest,
  removeMembers,
  setMemberMuted,
} from "../src/groups/index.js";
import { createTestContext, newUser, type TestContext } from "./helpers.js";

/**
 * Races between membership changes. PGlite runs transactions one at a time, so these matter most
 * on PostgreSQL (DATABASE_URL), where they really overlap.
 */
let t: TestContext;
let ctx: DomainContext;
beforeAll(async () => {
  t = await createTestContext();
  ctx = t.ctx;
});
afterAll(async () => {
  await t.dispose();
});

async function counts(groupId: string): Promise<{ cnt: number | undefined; real: number }> {
  const [g] = await ctx.db.select({ cnt: groups.memberCnt }).from(groups).where(eq(groups.uuid, groupId));
  const real = await ctx.db.$count(
    contacts,
    and(eq(contacts.contactId, groupId), eq(contacts.contactType, ContactType.group), inArray(contacts.status, [0, 5])),
  );
  return { cnt: g?.cnt, real };
}

async function streamMark(): Promise<number> {
  const [row] = await ctx.db.select({ id: max(streamEvents.id) }).from(streamEvents);
  return Number(row?.id ?? 0);
}

async function eventTypesSince(mark: number): Promise<string[]> {
  const rows = await ctx.db.select({ type: streamEvents.type }).from(streamEvents).where(gt(streamEvents.id, mark)).orderBy(streamEvents.id);
  return rows.map((r) => r.type);
}

async function users(n: number, name = "u"): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await newUser(ctx, name));
  return out;
}

/** Only refusals (AppError) are acceptable outcomes of a race; anything else (deadlock, 500) fails. */
function unexpected(results: PromiseSettledResult<unknown>[]): unknown[] {
  return results.filter((r): r is PromiseRejectedResult => r.status === "rejected" && !(r.reason instanceof AppError)).map((r): unknown => r.reason);
}

describe("concurrent membership changes", () => {
  it("20 parallel approvals of one request make exactly one membership", async () => {
    const owner = await newUser(ctx, "owner");
    const [applicant = ""] = await users(1);
    const g = await createGroup(ctx, owner, { name: "approve20", memberIds: [] });
    const { applyId } = await applyToJoinGroup(ctx, applicant, { groupId: g.uuid, message: "" });
    const mark = await streamMark();
    const results = await Promise.all(Array.from({ length: 20 }, () => approveJoinRequest(ctx, owner, applyId)));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(results.filter((r) => r.joined)).toHaveLength(1);
    expect(
      await ctx.db.$count(contacts, and(eq(contacts.userId, applicant), eq(contacts.contactId, g.uuid), eq(contacts.contactType, ContactType.group))),
    ).toBe(1);
    expect(await ctx.db.$count(sessions, and(eq(sessions.sendId, applicant), eq(sessions.receiveId, g.uuid)))).toBe(1);
    expect(await counts(g.uuid)).toEqual({ cnt: 2, real: 2 });
    expect(await eventTypesSince(mark)).toEqual(["request.decided", "member.joined"]);
  });

  it("20 parallel identical applies leave exactly one pending request", async () => {
    const owner = await newUser(ctx, "owner");
    const [applicant = ""] = await users(1);
    const g = await createGroup(ctx, owner, { name: "apply20", memberIds: [] });
    const results = await Promise.all(Array.from({ length: 20 }, () => applyToJoinGroup(ctx, applicant, { groupId: g.uuid, message: "hi" })));
    expect(new Set(results.map((r) => r.applyId)).size).toBe(1);
    const rows = await ctx.db.select().from(contactApplies).where(eq(contactApplies.contactId, g.uuid));
    expect(rows.map((r) => [r.uuid, r.userId, r.status])).toEqual([[results[0]?.applyId, applicant, 0]]);
  });

  it("parallel approvals of different applicants and parallel leaves keep member_cnt exact", async () => {
    const owner = await newUser(ctx, "owner");
    const members = await users(10, "m");
    const applicants = await users(15, "ap");
    const g = await createGroup(ctx, owner, { name: "churn", memberIds: members });
    const applyIds = [];
    for (const a of applicants) applyIds.push((await applyToJoinGroup(ctx, a, { groupId: g.uuid, message: "" })).applyId);

    const mark = await streamMark();
    const results = await Promise.allSettled([
      ...applyIds.map((id) => approveJoinRequest(ctx, owner, id)),
      ...members.map((m) => leaveGroup(ctx, m, g.uuid)),
    ]);
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(await counts(g.uuid)).toEqual({ cnt: 1 + 15, real: 1 + 15 });
    const types = await eventTypesSince(mark);
    expect(types.filter((x) => x === "member.joined")).toHaveLength(15);
    expect(types.filter((x) => x === "member.left")).toHaveLength(10);
  });

  it("parallel approvals respect the maximum group size exactly", async () => {
    const owner = await newUser(ctx, "owner");
    const applicants = await users(12, "cap");
    const g = await createGroup(ctx, owner, { name: "cap", memberIds: [] });
    const applyIds = [];
    for (const a of applicants) applyIds.push((await applyToJoinGroup(ctx, a, { groupId: g.uuid, message: "" })).applyId);
    ctx.limits.maxGroupMembers = 8;
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(applyIds.map((id) => approveJoinRequest(ctx, owner, id)));
    } finally {
      ctx.limits.maxGroupMembers = 2000;
    }
    expect(unexpected(results)).toEqual([]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(7);
    expect(await counts(g.uuid)).toEqual({ cnt: 8, real: 8 });
    const pending = await ctx.db.$count(contactApplies, and(eq(contactApplies.contactId, g.uuid), eq(contactApplies.status, 0)));
    expect(pending).toBe(5);
  });

  it("overlapping invites, kicks, mutes and leaves keep member_cnt exact", async () => {
    const owner = await newUser(ctx, "owner");
    const members = await users(6, "m");
    const pool = await users(12, "p");
    const g = await createGroup(ctx, owner, { name: "mix", memberIds: members });
    const slice = (from: number, n: number) => Array.from({ length: n }, (_, i) => pool[(from + i) % pool.length] ?? "");
    const results = await Promise.allSettled([
      ...members.map((m, i) => inviteMembers(ctx, m, { groupId: g.uuid, memberIds: slice(i * 2, 5) })),
      inviteMembers(ctx, owner, { groupId: g.uuid, memberIds: pool }),
      removeMembers(ctx, owner, { groupId: g.uuid, memberIds: slice(3, 4) }),
      removeMembers(ctx, owner, { groupId: g.uuid, memberIds: slice(7, 4) }),
      setMemberMuted(ctx, owner, { groupId: g.uuid, userId: members[0] ?? "", muted: true }),
      leaveGroup(ctx, members[1] ?? "", g.uuid),
      leaveGroup(ctx, members[2] ?? "", g.uuid),
    ]);
    expect(unexpected(results)).toEqual([]);
    const { cnt, real } = await counts(g.uuid);
    expect(cnt).toBe(real);
    const rows = await ctx.db
      .select({ userId: contacts.userId })
      .from(contacts)
      .where(and(eq(contacts.contactId, g.uuid), eq(contacts.contactType, ContactType.group)));
    expect(new Set(rows.map((r) => r.userId)).size).toBe(rows.length);
  });

  it("overlapping invites that create requests do not deadlock", async () => {
    const owner = await newUser(ctx, "owner");
    const members = await users(8, "m");
    const invitees = await users(6, "inv");
    const g = await createGroup(ctx, owner, { name: "requests", memberIds: members, addMode: 1 });
    const results = await Promise.allSettled(
      members.map((m, i) => inviteMembers(ctx, m, { groupId: g.uuid, memberIds: i % 2 ? [...invitees].reverse() : invitees })),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(await ctx.db.$count(contactApplies, and(eq(contactApplies.contactId, g.uuid), eq(contactApplies.status, 0)))).toBe(6);
    expect(await counts(g.uuid)).toEqual({ cnt: 9, real: 9 });
  });

  it("a storm of applies, decisions, invites and a dismissal ends consistent", async () => {
    const owner = await newUser(ctx, "owner");
    const members = await users(5, "m");
    const applicants = await users(10, "ap");
    const g = await createGroup(ctx, owner, { name: "storm", memberIds: members, addMode: 1 });
    const applyIds = [];
    for (const a of applicants.slice(0, 5)) applyIds.push((await applyToJoinGroup(ctx, a, { groupId: g.uuid, message: "" })).applyId);
    const results = await Promise.allSettled([
      ...applyIds.map((id) => approveJoinRequest(ctx, owner, id)),
      ...applyIds.map((id) => rejectJoinRequest(ctx, owner, id)),
      ...applicants.map((a) => applyToJoinGroup(ctx, a, { groupId: g.uuid, message: "again" })),
      ...members.map((m) => inviteMembers(ctx, m, { groupId: g.uuid, memberIds: applicants.slice(5) })),
      inviteMembers(ctx, owner, { groupId: g.uuid, memberIds: applicants.slice(3, 8) }),
      ...members.slice(0, 2).map((m) => leaveGroup(ctx, m, g.uuid)),
      dismissGroup(ctx, owner, g.uuid),
    ]);
    expect(unexpected(results)).toEqual([]);
    // The dismissal ran at some point; after it nothing can be active.
    expect(await counts(g.uuid)).toEqual({ cnt: 0, real: 0 });
    const statuses = await ctx.db
      .select({ status: contacts.status })
      .from(contacts)
      .where(and(eq(contacts.contactId, g.uuid), eq(contacts.contactType, ContactType.group)));
    expect(new Set(statuses.map((s) => s.status))).toEqual(new Set([8]));
  });
});
