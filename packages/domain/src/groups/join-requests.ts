import { ACTIVE_MEMBER_STATUSES, ApplyStatus, ContactType, contactApplies, contacts, groups, users, type Tx } from "@omnilink/db";
import { alias } from "drizzle-orm/pg-core";
import { and, desc, eq, exists, inArray, notExists, or, sql } from "drizzle-orm";
import { activeAdminRow, isGroupManager, isNormalGroup, normalGroupRow } from "../access.js";
import type { DomainContext } from "../context.js";
import { newId } from "../ids.js";
import { transact } from "../realtime/outbox.js";
import { getMembership, isActiveMember, loadGroup, lockGroup, requestDeciders, type GroupRow } from "./membership.js";
import type { ApplyToJoinInput } from "./schemas.js";
import { DEFAULT_JOIN_MESSAGE, GroupErrors } from "./texts.js";

export interface JoinRequestView {
  applyId: string;
  userId: string;
  username: string;
  nickname: string;
  avatar: string;
  message: string;
  lastApplyAt: Date;
  /** Set when a member's invite (in an approval-only group) created the request. */
  invitedBy: string | null;
}

export interface OwnerJoinRequestView extends JoinRequestView {
  groupId: string;
  groupName: string;
}

/** legacy-contract §2.8, group branch: missing 404, not normal 403, already an active member 400. */
async function checkApply(tx: Tx, group: GroupRow | undefined, applicantId: string): Promise<GroupRow> {
  if (!group) throw GroupErrors.groupNotFound();
  if (!isNormalGroup(group)) throw GroupErrors.groupAbnormal();
  if (await isActiveMember(tx, applicantId, group.uuid)) throw GroupErrors.alreadyMember();
  return group;
}

/**
 * Asks to join a group. Always needs the owner's approval (legacy: add_mode is not consulted).
 * A re-apply resets the one request row (UNIQUE per applicant and group) to pending, keeping its id.
 */
export async function applyToJoinGroup(ctx: DomainContext, applicantId: string, input: ApplyToJoinInput): Promise<{ applyId: string }> {
  const message = input.message?.trim() || DEFAULT_JOIN_MESSAGE;
  return transact(ctx, async (tx, outbox) => {
    // A plain read first, so a refused apply writes nothing.
    await checkApply(tx, await loadGroup(tx, input.groupId), applicantId);
    // Lock order: the apply row (taken by the upsert), then the group, then the stream.
    const [row] = await tx
      .insert(contactApplies)
      .values({ uuid: newId("A"), userId: applicantId, contactId: input.groupId, contactType: ContactType.group, status: ApplyStatus.pending, message })
      .onConflictDoUpdate({
        target: [contactApplies.userId, contactApplies.contactId, contactApplies.contactType],
        set: { status: ApplyStatus.pending, message, invitedBy: null, decidedBy: null, decidedAt: null, lastApplyAt: sql`now()` },
      })
      .returning({ uuid: contactApplies.uuid });
    if (!row) throw new Error("apply upsert returned no row");
    // Under the group lock the checks hold until commit (an approval or invite may have just added us).
    const group = await checkApply(tx, (await lockGroup(tx, input.groupId)).group, applicantId);
    await outbox.event(
      "request.created",
      { groupId: null, userIds: await requestDeciders(tx, group) },
      { applyId: row.uuid, kind: "join", applicantId, targetId: group.uuid, message, invitedBy: null },
    );
    return { applyId: row.uuid };
  });
}

const requestColumns = {
  applyId: contactApplies.uuid,
  userId: users.uuid,
  username: users.username,
  nickname: users.nickname,
  avatar: users.avatar,
  message: contactApplies.message,
  lastApplyAt: contactApplies.lastApplyAt,
  invitedBy: contactApplies.invitedBy,
};

/**
 * Pending join requests whose applicant is not a member yet: an owner's invite can add someone
 * whose request is still pending (it does not touch request rows, see lock order), and such a
 * request has nothing left to decide.
 */
function pendingJoin(db: DomainContext["db"]) {
  const alreadyMember = db
    .select({ one: sql`1` })
    .from(contacts)
    .where(
      and(
        eq(contacts.userId, contactApplies.userId),
        eq(contacts.contactId, contactApplies.contactId),
        eq(contacts.contactType, ContactType.group),
        inArray(contacts.status, [...ACTIVE_MEMBER_STATUSES]),
      ),
    );
  return and(eq(contactApplies.contactType, ContactType.group), eq(contactApplies.status, ApplyStatus.pending), notExists(alreadyMember));
}

/** Pending requests to join one group, newest first; the owner and admins only. */
export async function listJoinRequests(ctx: DomainContext, userId: string, groupId: string): Promise<JoinRequestView[]> {
  const group = await loadGroup(ctx.db, groupId);
  if (!group) throw GroupErrors.groupNotFound();
  if (!isGroupManager(group, userId, await getMembership(ctx.db, userId, groupId))) throw GroupErrors.approveNotOwner();
  return ctx.db
    .select(requestColumns)
    .from(contactApplies)
    .innerJoin(users, eq(users.uuid, contactApplies.userId))
    .where(and(pendingJoin(ctx.db), eq(contactApplies.contactId, groupId)))
    .orderBy(desc(contactApplies.lastApplyAt), desc(contactApplies.id));
}

/**
 * Pending join requests of every normal group I own or am an active admin of, newest first (the
 * contacts module's pending list; legacy-contract D28).
 */
export async function listPendingJoinRequestsForOwner(ctx: DomainContext, userId: string): Promise<OwnerJoinRequestView[]> {
  const mine = alias(contacts, "manager");
  const iAdminister = ctx.db
    .select({ one: sql`1` })
    .from(mine)
    .where(and(eq(mine.userId, userId), eq(mine.contactId, groups.uuid), activeAdminRow(mine)));
  return ctx.db
    .select({ ...requestColumns, groupId: groups.uuid, groupName: groups.name })
    .from(contactApplies)
    .innerJoin(groups, eq(groups.uuid, contactApplies.contactId))
    .innerJoin(users, eq(users.uuid, contactApplies.userId))
    .where(and(pendingJoin(ctx.db), or(eq(groups.ownerId, userId), exists(iAdminister)), normalGroupRow()))
    .orderBy(desc(contactApplies.lastApplyAt), desc(contactApplies.id));
}
