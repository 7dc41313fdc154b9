import { ApplyStatus, ContactType, contactApplies, users } from "@omnilink/db";
import { and, desc, eq } from "drizzle-orm";
import type { DomainContext } from "../context.js";
import { listPendingJoinRequestsForOwner } from "../groups/index.js";

export interface PendingApplyItem {
  applyId: string;
  kind: "friend" | "join";
  /** The applicant. */
  userId: string;
  username: string;
  nickname: string;
  avatar: string;
  message: string;
  /** Always 0 (pending); kept because the legacy item carries it. */
  status: 0;
  lastApplyAt: Date;
  /** The group to join (join requests), null for friend requests. */
  groupId: string | null;
  groupName: string | null;
  /** The member whose invite created a join request, if any. */
  invitedBy: string | null;
}

/**
 * `/contact/getNewContactList` (legacy-contract §2.9): pending friend requests addressed to me, newest
 * first, then the pending join requests of the groups I own. The two lists are concatenated, not
 * re-sorted, as in the legacy server (the client shows them in this order).
 */
export async function listPendingApplies(ctx: DomainContext, userId: string): Promise<PendingApplyItem[]> {
  const friendRows = await ctx.db
    .select({
      applyId: contactApplies.uuid,
      userId: contactApplies.userId,
      username: users.username,
      nickname: users.nickname,
      avatar: users.avatar,
      message: contactApplies.message,
      lastApplyAt: contactApplies.lastApplyAt,
    })
    .from(contactApplies)
    .leftJoin(users, eq(users.uuid, contactApplies.userId))
    .where(
      and(
        eq(contactApplies.contactId, userId),
        eq(contactApplies.contactType, ContactType.user),
        eq(contactApplies.status, ApplyStatus.pending),
      ),
    )
    .orderBy(desc(contactApplies.lastApplyAt), desc(contactApplies.id));
  const friendItems = friendRows.map(
    (r): PendingApplyItem => ({
      applyId: r.applyId,
      kind: "friend",
      userId: r.userId,
      // Legacy: "" when the applicant's profile is missing.
      username: r.username ?? "",
      nickname: r.nickname ?? "",
      avatar: r.avatar ?? "",
      message: r.message,
      status: 0,
      lastApplyAt: r.lastApplyAt,
      groupId: null,
      groupName: null,
      invitedBy: null,
    }),
  );

  const joinRows = await listPendingJoinRequestsForOwner(ctx, userId);
  const joinItems = joinRows.map(
    (r): PendingApplyItem => ({
      applyId: r.applyId,
      kind: "join",
      userId: r.userId,
      username: r.username,
      nickname: r.nickname,
      avatar: r.avatar,
      message: r.message,
      status: 0,
      lastApplyAt: r.lastApplyAt,
      groupId: r.groupId,
      groupName: r.groupName,
      invitedBy: r.invitedBy,
    }),
  );
  return [...friendItems, ...joinItems];
}
