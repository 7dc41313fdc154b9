import { z } from "zod";
import { idList, publicIdText, storableText } from "../text.js";

/** Public ids (U…, G…, A…): printable ASCII, at most 20 characters (the column width). */
const id = publicIdText();
/** Member lists may carry empty strings (the legacy server dropped them); at most MAX_LISTED_IDS ids. */
const memberIds = idList();

const groupName = storableText(20, { trim: true, min: 1, tooShort: "群名称不能为空", tooLong: "群名称最多 20 个字符" });
const notice = storableText(500, { trim: true, tooLong: "群公告最多 500 个字符" });
const addMode = z.union([z.literal(0), z.literal(1)]);

export const groupIdInput = z.object({ groupId: id });
export type GroupIdInput = z.infer<typeof groupIdInput>;

export const createGroupInput = z.object({
  name: groupName,
  notice: notice.optional(),
  memberIds,
  addMode: addMode.optional(),
});
export type CreateGroupInput = z.infer<typeof createGroupInput>;

export const updateGroupInput = z.object({
  groupId: id,
  name: groupName.optional(),
  notice: notice.optional(),
  avatar: storableText(255, { trim: true, min: 1, tooShort: "头像不能为空", tooLong: "头像地址过长" }).optional(),
  addMode: addMode.optional(),
});
export type UpdateGroupInput = z.infer<typeof updateGroupInput>;

export const inviteMembersInput = z.object({
  groupId: id,
  memberIds: memberIds.min(1, "参数错误"),
});
export type InviteMembersInput = z.infer<typeof inviteMembersInput>;

export const applyToJoinInput = z.object({
  groupId: id,
  message: storableText(100, { trim: true, tooLong: "申请留言最多 100 个字符" }).default(""),
});
export type ApplyToJoinInput = z.input<typeof applyToJoinInput>;

/** Approve / reject. `groupId` is optional (the contacts routes send only the apply id). */
export const joinDecisionInput = z.object({ applyId: id, groupId: id.optional() });
export type JoinDecisionInput = z.infer<typeof joinDecisionInput>;

export const removeMembersInput = z.object({
  groupId: id,
  memberIds: memberIds.min(1, "参数错误"),
});
export type RemoveMembersInput = z.infer<typeof removeMembersInput>;

export const setMemberMutedInput = z.object({
  groupId: id,
  userId: id,
  muted: z.boolean(),
});
export type SetMemberMutedInput = z.infer<typeof setMemberMutedInput>;

export const transferOwnershipInput = z.object({
  groupId: id,
  newOwnerId: id,
});
export type TransferOwnershipInput = z.infer<typeof transferOwnershipInput>;

export const setGroupAdminInput = z.object({
  groupId: id,
  userId: id,
  admin: z.boolean(),
});
export type SetGroupAdminInput = z.infer<typeof setGroupAdminInput>;

export const setMuteAllInput = z.object({
  groupId: id,
  muted: z.boolean(),
});
export type SetMuteAllInput = z.infer<typeof setMuteAllInput>;

/** Trims, drops empties and duplicates, keeping first-seen order (the legacy member order). */
export function cleanIds(ids: readonly string[]): string[] {
  return [...new Set(ids.map((i) => i.trim()).filter((i) => i.length > 0))];
}
