import { ContactStatus, ContactType, contacts, users } from "@omnilink/db";
import { and, asc, eq, sql } from "drizzle-orm";
import { friendRow, isDeletedFriend, isFriend } from "../access.js";
import type { DomainContext } from "../context.js";
import { transact } from "../realtime/outbox.js";
import { friendship, lockFriendPair } from "./pair.js";
import type { DeleteFriendInput } from "./schemas.js";
import { ContactErrors } from "./texts.js";

export interface FriendView {
  userId: string;
  /** Nickname, falling back to the username (legacy `user_name`). */
  name: string;
  username: string;
  nickname: string;
  avatar: string;
  /** The friend's account status (user_info.status: 0 normal, 1 disabled). */
  status: number;
}

/**
 * `/contact/getUserList` (legacy-contract §2.5): my friend rows in normal status, with the friend's
 * profile. The inner join skips users that no longer exist; the order is the rows' insertion
 * order (the legacy query had no ORDER BY, so this is the stable version of its order).
 */
export async function listFriends(ctx: DomainContext, userId: string): Promise<FriendView[]> {
  const rows = await ctx.db
    .select({ userId: users.uuid, username: users.username, nickname: users.nickname, avatar: users.avatar, status: users.status })
    .from(contacts)
    .innerJoin(users, eq(users.uuid, contacts.contactId))
    .where(and(eq(contacts.userId, userId), friendRow()))
    .orderBy(asc(contacts.id));
  return rows.map((r) => ({ ...r, name: r.nickname || r.username }));
}

/**
 * `/contact/deleteContact` (legacy-contract §2.24, never registered by the legacy server): my row
 * becomes "deleted" (3) and theirs "deleted by friend" (4). Either side can apply again later.
 * Deleting an already deleted friend is a no-op.
 */
export async function deleteFriend(ctx: DomainContext, userId: string, input: DeleteFriendInput): Promise<{ changed: boolean }> {
  const friendId = input.friendId.trim();
  if (!friendId || !userId) throw ContactErrors.badParams();
  return transact(ctx, async (tx, outbox) => {
    await lockFriendPair(tx, userId, friendId);
    const mine = await friendship(tx, userId, friendId);
    if (isDeletedFriend(mine)) return { changed: false };
    if (!isFriend(mine)) throw ContactErrors.notFriends();

    const edge = (from: string, to: string) =>
      and(eq(contacts.userId, from), eq(contacts.contactId, to), eq(contacts.contactType, ContactType.user));
    await tx.update(contacts).set({ status: ContactStatus.deleted, updatedAt: sql`now()` }).where(edge(userId, friendId));
    // Only from normal: any other state of their row (left over from older data) says more than 4.
    await tx
      .update(contacts)
      .set({ status: ContactStatus.deletedByPeer, updatedAt: sql`now()` })
      .where(and(edge(friendId, userId), eq(contacts.status, ContactStatus.normal)));

    await outbox.event("friend.removed", { groupId: null, userIds: [userId, friendId] }, { by: userId, userId: friendId });
    return { changed: true };
  });
}
