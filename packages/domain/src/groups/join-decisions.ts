import { ApplyStatus, ContactType, contactApplies, type Tx } from "@omnilink/db";
import { eq, sql } from "drizzle-orm";
import { isGroupManager, isNormalGroup } from "../access.js";
import type { DomainContext } from "../context.js";
import { transact } from "../realtime/outbox.js";
import {
  activateMembers,
  assertCapacity,
  assertUsersUsable,
  getMembership,
  grantSessions,
  isActiveMember,
  lockGroup,
  recountMembers,
  requestDeciders,
  type GroupRow,
} from "./membership.js";
import { GroupErrors } from "./texts.js";

export interface JoinDecision {
  /** False when the request was already in the asked state (an idempotent repeat). */
  changed: boolean;
  applyId: string;
  groupId: string;
  applicantId: string;
  /** Approvals only: whether the applicant became a member now (false if already one). */
  joined: boolean;
}

type ApplyRow = typeof contactApplies.$inferSelect;

/** Lock order step 1: the request row, so concurrent decisions on it run one after another. */
async function lockJoinRequest(tx: Tx, applyId: string, groupId: string | undefined): Promise<ApplyRow> {
  const [apply] = await tx.select().from(contactApplies).where(eq(contactApplies.uuid, applyId)).for("update");
  // Friend requests are decided by the contacts module; to this one they do not exist. Nor does a
  // request of another group than the one the caller named (/group/approveJoin sends both ids).
  if (!apply || apply.contactType !== ContactType.group) throw GroupErrors.applyNotFound();
  if (groupId !== undefined && apply.contactId !== groupId) throw GroupErrors.applyNotFound();
  return apply;
}

/**
 * The decider must be the owner or an active admin of a normal group, read under the group lock
 * (an admin revoked concurrently is either seen revoked or waits for this decision). Checked
 * before the idempotent no-op, unlike the legacy server, which answered 200 to anyone for an
 * already-passed request.
 */
async function checkDecider(tx: Tx, group: GroupRow | undefined, deciderId: string, notOwner: () => Error): Promise<GroupRow> {
  if (!group) throw GroupErrors.groupNotFound();
  if (!isNormalGroup(group)) throw GroupErrors.groupAbnormal();
  if (!isGroupManager(group, deciderId, await getMembership(tx, deciderId, group.uuid))) throw notOwner();
  return group;
}

/** A decision is heard by the applicant, the owner, every admin and the decider (legacy-contract D28). */
async function decisionAudience(tx: Tx, group: GroupRow, applicantId: string, deciderId: string): Promise<string[]> {
  return [...new Set([applicantId, deciderId, ...(await requestDeciders(tx, group))])];
}

const decided = (deciderId: string, status: number) => ({ status, decidedBy: deciderId, decidedAt: sql`now()` });

/** `groupId`, when given, must be the request's group (else 404 申请不存在). */
export async function approveJoinRequest(ctx: DomainContext, deciderId: string, applyId: string, groupId?: string): Promise<JoinDecision> {
  return transact(ctx, async (tx, outbox) => {
    const apply = await lockJoinRequest(tx, applyId, groupId);
    const { group: row, lastSeq } = await lockGroup(tx, apply.contactId);
    const group = await checkDecider(tx, row, deciderId, GroupErrors.approveNotOwner);
    const result = { applyId, groupId: group.uuid, applicantId: apply.userId };
    if (apply.status === ApplyStatus.approved) return { ...result, changed: false, joined: false };
    if (apply.status === ApplyStatus.blacklisted) throw GroupErrors.applyBlacklisted();
    // Pending, or rejected earlier (legacy: a rejected request can still be approved).
    await tx.update(contactApplies).set(decided(deciderId, ApplyStatus.approved)).where(eq(contactApplies.id, apply.id));

    // Invited directly meanwhile: approve the request without counting them twice.
    const joined = !(await isActiveMember(tx, apply.userId, group.uuid));
    if (joined) {
      await assertUsersUsable(tx, [apply.userId]);
      await activateMembers(tx, group.uuid, [apply.userId]);
      assertCapacity(ctx, await recountMembers(tx, group.uuid));
      await grantSessions(tx, group, [apply.userId], lastSeq);
    }
    await outbox.event(
      "request.decided",
      { groupId: null, userIds: await decisionAudience(tx, group, apply.userId, deciderId) },
      { applyId, kind: "join", applicantId: apply.userId, targetId: group.uuid, approved: true, by: deciderId },
    );
    if (joined) {
      await outbox.event("member.joined", { groupId: group.uuid, userIds: [apply.userId] }, { userIds: [apply.userId], by: deciderId, via: "approval" });
    }
    return { ...result, changed: true, joined };
  });
}

/** `groupId`, when given, must be the request's group (else 404 申请不存在). */
export async function rejectJoinRequest(ctx: DomainContext, deciderId: string, applyId: string, groupId?: string): Promise<JoinDecision> {
  return transact(ctx, async (tx, outbox) => {
    const apply = await lockJoinRequest(tx, applyId, groupId);
    // The request-row lock orders it against approvals; the group lock (after it, lock order)
    // against a concurrent revocation of the deciding admin.
    const group = await checkDecider(tx, (await lockGroup(tx, apply.contactId)).group, deciderId, GroupErrors.rejectNotOwner);
    const result = { applyId, groupId: group.uuid, applicantId: apply.userId, joined: false };
    if (apply.status === ApplyStatus.rejected) return { ...result, changed: false };
    if (apply.status === ApplyStatus.approved) throw GroupErrors.alreadyApproved();
    if (apply.status === ApplyStatus.blacklisted) throw GroupErrors.applyBlacklisted();
    await tx.update(contactApplies).set(decided(deciderId, ApplyStatus.rejected)).where(eq(contactApplies.id, apply.id));
    await outbox.event(
      "request.decided",
      { groupId: null, userIds: await decisionAudience(tx, group, apply.userId, deciderId) },
      { applyId, kind: "join", applicantId: apply.userId, targetId: group.uuid, approved: false, by: deciderId },
    );
    return { ...result, changed: true };
  });
}
