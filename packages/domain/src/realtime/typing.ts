import { ContactType, contacts, groups } from "@omnilink/db";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { isGroupManager, isNormalGroup, maySendToGroup, privateRefusal } from "../access.js";
import { friendship } from "../contacts/pair.js";
import type { DomainContext } from "../context.js";
import { AppError, forbidden, notFound } from "../errors.js";
import { isGroupId } from "../ids.js";
import { GroupSendErrors } from "../messages/admission.js";
import { publicIdText } from "../text.js";
import { TYPING_TTL_MS } from "./ephemeral.js";

/** `peerId`: a group id or the user of a private chat (as in history). */
export const typingInput = z.object({ peerId: publicIdText(), typing: z.boolean() });
export type TypingInput = z.infer<typeof typingInput>;

let signalSeq = 0;

/**
 * Tells the other participants of a conversation, on every node, that the caller is typing (or
 * stopped). Nothing is stored. Only whoever may send there may signal: a member who is not muted
 * (and a manager while mute-all is on) of a normal group, or a friend (privateRefusal). Rate
 * limited per node: past the caller's budget the signal is refused with RATE_LIMITED before any
 * query.
 *
 * The audience is decided by each receiving node's dispatcher, from its own membership view. So
 * that the view includes every change committed before this call (a member removed a moment ago
 * hears nothing), the signal waits for a tick taken after the access check: `ticker.kick()`
 * resolves with a tick that orders every row committed before it, and every node hands the
 * signal out only once it has handed out that tick. The tick costs one statement, shared by
 * whatever asks meanwhile (a send's own tick included), and nothing when nothing was committed.
 */
export async function signalTyping(ctx: DomainContext, userId: string, input: TypingInput): Promise<{ ttlMs: number }> {
  const peerId = input.peerId;
  if (!ctx.typingLimiter.take(userId, peerId)) throw new AppError("RATE_LIMITED", "typing signals too frequent");
  if (isGroupId(peerId)) await mayTypeInGroup(ctx, userId, peerId);
  else {
    if (peerId === userId) throw forbidden("无权发送消息");
    const refusal = privateRefusal(await friendship(ctx.db, userId, peerId), "send");
    if (refusal) throw refusal;
  }
  const after = await ctx.ticker.kick();
  ctx.bus.publish({
    signals: [{ kind: "typing", id: `${ctx.presence.node}/t${++signalSeq}`, from: userId, to: peerId, typing: input.typing, after }],
  });
  return { ttlMs: TYPING_TTL_MS };
}

/** The send rule of a group (legacy texts of the send path), in one statement. */
async function mayTypeInGroup(ctx: DomainContext, userId: string, groupId: string): Promise<void> {
  const [row] = await ctx.db
    .select({ status: groups.status, ownerId: groups.ownerId, muteAll: groups.muteAll, memberStatus: contacts.status, role: contacts.role })
    .from(groups)
    .leftJoin(contacts, and(eq(contacts.contactId, groups.uuid), eq(contacts.userId, userId), eq(contacts.contactType, ContactType.group)))
    .where(eq(groups.uuid, groupId))
    .limit(1);
  if (!row) throw notFound("群组不存在");
  if (!isNormalGroup(row)) throw forbidden("群组状态异常");
  if (row.memberStatus === null || row.role === null) throw forbidden("非群成员，无法发送消息");
  if (!maySendToGroup(row.memberStatus)) throw forbidden("无权发送消息");
  if (row.muteAll && !isGroupManager(row, userId, { status: row.memberStatus, role: row.role })) throw GroupSendErrors.mutedAll();
}
