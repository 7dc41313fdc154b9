import { ContactType, contacts, groups, users } from "@omnilink/db";
import { and, asc, eq } from "drizzle-orm";
import { isFriend, maySendToGroup } from "../access.js";
import type { DomainContext } from "../context.js";
import type { ContactInfoInput } from "./schemas.js";
import { ContactErrors } from "./texts.js";

export interface ContactInfo {
  contactId: string;
  /** A user's nickname (falling back to the username), or the group's name. */
  name: string;
  avatar: string;
  signature: string;
  /** 0 male, 1 female; -1 for a group. */
  gender: number;
  /** YYYYMMDD or "". */
  birthday: string;
  kind: "user" | "group";
}

/**
 * `/contact/getContactInfo` (legacy-contract §2.7): only for a contact of mine in normal status (a
 * friend, or a group I am a plain, unmuted member of, as in the legacy check of `status != 0`).
 * A group answers with its real name and avatar instead of the legacy placeholder (same keys).
 */
export async function getContactInfo(ctx: DomainContext, userId: string, input: ContactInfoInput): Promise<ContactInfo> {
  const contactId = input.contactId.trim();
  if (!contactId || !userId) throw ContactErrors.badParams();
  const [relation] = await ctx.db
    .select({ type: contacts.contactType, status: contacts.status })
    .from(contacts)
    .where(and(eq(contacts.userId, userId), eq(contacts.contactId, contactId)))
    .orderBy(asc(contacts.id))
    .limit(1);
  if (!relation || !(relation.type === ContactType.group ? maySendToGroup(relation.status) : isFriend(relation.status))) throw ContactErrors.contactForbidden();

  if (relation.type === ContactType.group) {
    const [group] = await ctx.db.select({ name: groups.name, avatar: groups.avatar }).from(groups).where(eq(groups.uuid, contactId)).limit(1);
    if (!group) throw ContactErrors.contactNotFound();
    return { contactId, name: group.name, avatar: group.avatar, signature: "", gender: -1, birthday: "", kind: "group" };
  }
  const [user] = await ctx.db
    .select({
      username: users.username,
      nickname: users.nickname,
      avatar: users.avatar,
      signature: users.signature,
      gender: users.gender,
      birthday: users.birthday,
    })
    .from(users)
    .where(eq(users.uuid, contactId))
    .limit(1);
  if (!user) throw ContactErrors.contactNotFound();
  return {
    contactId,
    name: user.nickname || user.username,
    avatar: user.avatar,
    signature: user.signature,
    gender: user.gender,
    birthday: user.birthday,
    kind: "user",
  };
}
