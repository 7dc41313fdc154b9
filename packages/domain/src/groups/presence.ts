import type { DomainContext } from "../context.js";
import { activeMemberIds, loadGroup } from "./membership.js";
import { GroupErrors } from "./texts.js";

/**
 * Which of the group's active members are online now (have a live connection on some node), in
 * join order. Only an active member may ask. Costs one indexed query for the members and one
 * presence lookup (with Redis: one pipeline of a HKEYS per member and one MGET of the nodes).
 */
export async function groupPresence(ctx: DomainContext, userId: string, groupId: string): Promise<{ online: string[] }> {
  const group = await loadGroup(ctx.db, groupId);
  if (!group) throw GroupErrors.groupNotFound();
  const members = await activeMemberIds(ctx.db, groupId);
  if (!members.includes(userId)) throw GroupErrors.notMemberRead();
  const online = await ctx.presence.onlineAmong(members);
  return { online: members.filter((m) => online.has(m)) };
}
