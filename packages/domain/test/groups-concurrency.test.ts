import { ContactType, contactApplies, contacts, sessions } from "@omnilink/db";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
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
import { eventsSince, memberCount, streamMark } from "./fixtures.js";
import { newUser, newUsers, useTestContext } from "./helpers.js";

/**
 * Races between membership changes. PGlite runs transactions one at a time, so these matter most
 * on PostgreSQL (DATABASE_URL), where they really overlap.
 */
const t = useTestContext();

/** Only refusals (AppError) are acceptable outcomes of a race; anything else (deadlock, 500) fails. */
function unexpected(results: PromiseSettledResult<unknown>[]): unknown[] {
  return results.filter((r): r is PromiseRejectedResult => r.status === "rejected" && !(r.reason instanceof AppError)).map((r): unknown => r.reason);
}

describe("concurrent membership changes", () => {
  it("20 parallel approvals of one request make exactly one membership", async () => {
    const owner = await newUser(t.ctx, "owner");
    const [applicant = ""] = await newUsers(t.ctx, 1, "u");
    const g = await createGroup(t.ctx, owner, { name: "approve20", memberIds: [] });
    const { applyId } = await applyToJoinGroup(t.ctx, applicant, { groupId: g.uuid, message: "" });
    const mark = await streamMark(t.ctx);
    const results = await Promise.all(Array.from({ length: 20 }, () => approveJoinRequest(t.ctx, owner, applyId)));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(results.filter((r) => r.joined)).toHaveLength(1);
    expect(
      await t.ctx.db.$count(contacts, and(eq(contacts.userId, applicant), eq(contacts.contactId, g.uuid), eq(contacts.contactType, ContactType.group))),
    ).toBe(1);
    expect(await t.ctx.db.$count(sessions, and(eq(sessions.sendId, applicant), eq(sessions.receiveId, g.uuid)))).toBe(1);
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 2, real: 2 });
    expect((await eventsSince(t.ctx, mark)).map((e) => e.type)).toEqual(["request.decided", "member.joined"]);
  });

  it("20 parallel identical applies leave exactly one pending request", async () => {
    const owner = await newUser(t.ctx, "owner");
    const [applicant = ""] = await newUsers(t.ctx, 1, "u");
    const g = await createGroup(t.ctx, owner, { name: "apply20", memberIds: [] });
    const results = await Promise.all(Array.from({ length: 20 }, () => applyToJoinGroup(t.ctx, applicant, { groupId: g.uuid, message: "hi" })));
    expect(new Set(results.map((r) => r.applyId)).size).toBe(1);
    const rows = await t.ctx.db.select().from(contactApplies).where(eq(contactApplies.contactId, g.uuid));
    expect(rows.map((r) => [r.uuid, r.userId, r.status])).toEqual([[results[0]?.applyId, applicant, 0]]);
  });

  it("parallel approvals of different applicants and parallel leaves keep member_cnt exact", async () => {
    const owner = await newUser(t.ctx, "owner");
    const members = await newUsers(t.ctx, 10, "m");
    const applicants = await newUsers(t.ctx, 15, "ap");
    const g = await createGroup(t.ctx, owner, { name: "churn", memberIds: members });
    const applyIds = [];
    for (const a of applicants) applyIds.push((await applyToJoinGroup(t.ctx, a, { groupId: g.uuid, message: "" })).applyId);

    const mark = await streamMark(t.ctx);
    const results = await Promise.allSettled([
      ...applyIds.map((id) => approveJoinRequest(t.ctx, owner, id)),
      ...members.map((m) => leaveGroup(t.ctx, m, g.uuid)),
    ]);
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 1 + 15, real: 1 + 15 });
    const types = (await eventsSince(t.ctx, mark)).map((e) => e.type);
    expect(types.filter((x) => x === "member.joined")).toHaveLength(15);
    expect(types.filter((x) => x === "member.left")).toHaveLength(10);
  });

  it("parallel approvals respect the maximum group size exactly", async () => {
    const owner = await newUser(t.ctx, "owner");
    const applicants = await newUsers(t.ctx, 12, "cap");
    const g = await createGroup(t.ctx, owner, { name: "cap", memberIds: [] });
    const applyIds = [];
    for (const a of applicants) applyIds.push((await applyToJoinGroup(t.ctx, a, { groupId: g.uuid, message: "" })).applyId);
    t.ctx.limits.maxGroupMembers = 8;
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(applyIds.map((id) => approveJoinRequest(t.ctx, owner, id)));
    } finally {
      t.ctx.limits.maxGroupMembers = 2000;
    }
    expect(unexpected(results)).toEqual([]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(7);
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 8, real: 8 });
    const pending = await t.ctx.db.$count(contactApplies, and(eq(contactApplies.contactId, g.uuid), eq(contactApplies.status, 0)));
    expect(pending).toBe(5);
  });

  it("overlapping invites, kicks, mutes and leaves keep member_cnt exact", async () => {
    const owner = await newUser(t.ctx, "owner");
    const members = await newUsers(t.ctx, 6, "m");
    const pool = await newUsers(t.ctx, 12, "p");
    const g = await createGroup(t.ctx, owner, { name: "mix", memberIds: members });
    const slice = (from: number, n: number) => Array.from({ length: n }, (_, i) => pool[(from + i) % pool.length] ?? "");
    const results = await Promise.allSettled([
      ...members.map((m, i) => inviteMembers(t.ctx, m, { groupId: g.uuid, memberIds: slice(i * 2, 5) })),
      inviteMembers(t.ctx, owner, { groupId: g.uuid, memberIds: pool }),
      removeMembers(t.ctx, owner, { groupId: g.uuid, memberIds: slice(3, 4) }),
      removeMembers(t.ctx, owner, { groupId: g.uuid, memberIds: slice(7, 4) }),
      setMemberMuted(t.ctx, owner, { groupId: g.uuid, userId: members[0] ?? "", muted: true }),
      leaveGroup(t.ctx, members[1] ?? "", g.uuid),
      leaveGroup(t.ctx, members[2] ?? "", g.uuid),
    ]);
    expect(unexpected(results)).toEqual([]);
    const { cnt, real } = await memberCount(t.ctx, g.uuid);
    expect(cnt).toBe(real);
    const rows = await t.ctx.db
      .select({ userId: contacts.userId })
      .from(contacts)
      .where(and(eq(contacts.contactId, g.uuid), eq(contacts.contactType, ContactType.group)));
    expect(new Set(rows.map((r) => r.userId)).size).toBe(rows.length);
  });

  it("overlapping invites that create requests do not deadlock", async () => {
    const owner = await newUser(t.ctx, "owner");
    const members = await newUsers(t.ctx, 8, "m");
    const invitees = await newUsers(t.ctx, 6, "inv");
    const g = await createGroup(t.ctx, owner, { name: "requests", memberIds: members, addMode: 1 });
    const results = await Promise.allSettled(
      members.map((m, i) => inviteMembers(t.ctx, m, { groupId: g.uuid, memberIds: i % 2 ? [...invitees].reverse() : invitees })),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(await t.ctx.db.$count(contactApplies, and(eq(contactApplies.contactId, g.uuid), eq(contactApplies.status, 0)))).toBe(6);
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 9, real: 9 });
  });

  it("a storm of applies, decisions, invites and a dismissal ends consistent", async () => {
    const owner = await newUser(t.ctx, "owner");
    const members = await newUsers(t.ctx, 5, "m");
    const applicants = await newUsers(t.ctx, 10, "ap");
    const g = await createGroup(t.ctx, owner, { name: "storm", memberIds: members, addMode: 1 });
    const applyIds = [];
    for (const a of applicants.slice(0, 5)) applyIds.push((await applyToJoinGroup(t.ctx, a, { groupId: g.uuid, message: "" })).applyId);
    const results = await Promise.allSettled([
      ...applyIds.map((id) => approveJoinRequest(t.ctx, owner, id)),
      ...applyIds.map((id) => rejectJoinRequest(t.ctx, owner, id)),
      ...applicants.map((a) => applyToJoinGroup(t.ctx, a, { groupId: g.uuid, message: "again" })),
      ...members.map((m) => inviteMembers(t.ctx, m, { groupId: g.uuid, memberIds: applicants.slice(5) })),
      inviteMembers(t.ctx, owner, { groupId: g.uuid, memberIds: applicants.slice(3, 8) }),
      ...members.slice(0, 2).map((m) => leaveGroup(t.ctx, m, g.uuid)),
      dismissGroup(t.ctx, owner, g.uuid),
    ]);
    expect(unexpected(results)).toEqual([]);
    // The dismissal ran at some point; after it nothing can be active.
    expect(await memberCount(t.ctx, g.uuid)).toEqual({ cnt: 0, real: 0 });
    const statuses = await t.ctx.db
      .select({ status: contacts.status })
      .from(contacts)
      .where(and(eq(contacts.contactId, g.uuid), eq(contacts.contactType, ContactType.group)));
    expect(new Set(statuses.map((s) => s.status))).toEqual(new Set([8]));
  });
});
