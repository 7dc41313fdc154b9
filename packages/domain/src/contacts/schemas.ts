import { z } from "zod";
import { publicIdText, storableText } from "../text.js";

/**
 * Inputs of the contacts module, validated by every transport before the domain is called.
 * Names are prefixed (contact…, friend…) because src/index.ts re-exports every module with
 * `export *`, where two modules exporting the same name is a compile error.
 */

/** A public id: empty, longer than the 20-character column or not printable ASCII is never valid (legacy: 参数错误). */
const id = publicIdText();
/** contact_apply.message is varchar(100); the legacy server answered 500 beyond it. */
const applyMessage = storableText(100, { trim: true, tooLong: "申请留言最多 100 个字符" }).default("");

/** `/contact/applyContact`: a user id (friend request) or a G… id (join request). */
export const applyContactInput = z.object({ contactId: id, message: applyMessage });
export type ApplyContactInput = z.input<typeof applyContactInput>;

export const applyFriendInput = z.object({ targetId: id, message: applyMessage });
export type ApplyFriendInput = z.input<typeof applyFriendInput>;

/** pass/refuse: the apply's uuid (A…). */
export const contactApplyIdInput = z.object({ applyId: id });
export type ContactApplyIdInput = z.infer<typeof contactApplyIdInput>;

export const deleteFriendInput = z.object({ friendId: id });
export type DeleteFriendInput = z.infer<typeof deleteFriendInput>;

/** block and unblock. */
export const blockContactInput = z.object({ targetId: id });
export type BlockContactInput = z.infer<typeof blockContactInput>;

export const contactInfoInput = z.object({ contactId: id });
export type ContactInfoInput = z.infer<typeof contactInfoInput>;
