import { ContactType, contacts, groups, users } from "@omnilink/db";
import { and, eq } from "drizzle-orm";
import { hasLeftGroup, iBlockThem, isActiveMembership, isFriend, isNormalGroup, isUsableAccount, theyBlockMe } from "../access.js";
import type { DomainContext } from "../context.js";
import { badRequest, forbidden, notFound } from "../errors.js";
import { isGroupId, privateConversationId } from "../ids.js";
import { ensureConversation, ensureSession } from "./ensure.js";
import { getSessionItem, type SessionItem } from "./list.js";

async function loadUser(ctx: DomainContext, uuid: string) {
  const [u] = await ctx.db
    .select({ nickname: users.nickname, username: users.username, avatar: users.avatar, status: users.status })
    .from(users)
    .where(eq(users.uuid, uuid));
  return u;
}

async function contactStatus(ctx: DomainContext, userId: string, contactId: string, type: number) {
  const [c] = await ctx.db
    .select({ status: contacts.status })
    .from(contacts)
    .where(and(eq(contacts.userId, userId), eq(contacts.contactId, contactId), eq(contacts.contactType, type)));
  return c?.status;
}

/** May `userId` open a chat with `peerId`? Throws with the legacy text if not (legacy-contract §2.12). */
export async function checkOpenAllowed(ctx: DomainContext, userId: string, peerId: string): Promise<true> {
  if (!peerId || !userId) throw badRequest();
  if (peerId === userId) throw badRequest("不能和自己创建会话");
  if (isGroupId(peerId)) {
    const [g] = await ctx.db.select({ status: groups.status }).from(groups).where(eq(groups.uuid, peerId));
    if (!g) throw notFound("群组不存在");
    if (!isNormalGroup(g)) throw forbidden("群组状态异常");
    const member = await contactStatus(ctx, userId, peerId, ContactType.group);
    if (member === undefined || hasLeftGroup(member)) throw forbidden("非群成员");
    if (!isActiveMembership(member)) throw forbidden("非正常群成员状态");
    return true;
  }
  const friend = await contactStatus(ctx, userId, peerId, ContactType.user);
  if (friend === undefined) throw forbidden("非好友关系，无法发起会话");
  if (theyBlockMe(friend)) throw forbidden("已被对方拉黑，无法发起会话");
  if (iBlockThem(friend)) throw forbidden("已拉黑对方，先解除拉黑状态才能发起会话");
  if (!isFriend(friend)) throw forbidden("非正常好友关系，无法发起会话");
  const peer = await loadUser(ctx, peerId);
  if (!peer) throw notFound("对方不存在");
  if (!isUsableAccount(peer.status)) throw forbidden("对方状态异常，无法发起会话");
  return true;
}

/**
 * Opens (creates or reveals) the viewer's session with a peer or group. For a private chat both
 * directions are created, as the legacy client expects; opening never changes what is read.
 */
export async function openSession(ctx: DomainContext, userId: string, peerId: string): Promise<SessionItem> {
  await checkOpenAllowed(ctx, userId, peerId);
  if (isGroupId(peerId)) {
    const [g] = await ctx.db
      .select({ name: groups.name, avatar: groups.avatar })
      .from(groups)
      .where(eq(groups.uuid, peerId));
    if (!g) throw notFound("群组不存在");
    await ensureConversation(ctx.db, peerId, 1);
    await ensureSession(ctx.db, { ownerId: userId, peerId, conversationId: peerId, name: g.name, avatar: g.avatar });
  } else {
    const [peer, me] = await Promise.all([loadUser(ctx, peerId), loadUser(ctx, userId)]);
    if (!peer) throw notFound("对方不存在");
    if (!isUsableAccount(peer.status)) throw forbidden("对方状态异常，无法发起会话");
    if (!me) throw notFound("用户不存在");
    if (!isUsableAccount(me.status)) throw forbidden("用户状态异常，无法发起会话");
    const conversationId = privateConversationId(userId, peerId);
    await ctx.db.transaction(async (tx) => {
      await ensureConversation(tx, conversationId, 0);
      await ensureSession(tx, { ownerId: userId, peerId, conversationId, name: peer.nickname || peer.username, avatar: peer.avatar });
      await ensureSession(tx, {
        ownerId: peerId,
        peerId: userId,
        conversationId,
        name: me.nickname || me.username,
        avatar: me.avatar,
        reveal: false,
      });
    });
  }
  const item = await getSessionItem(ctx, userId, peerId);
  if (!item) throw new Error(`session ${userId}→${peerId} missing right after it was opened`);
  return item;
}
