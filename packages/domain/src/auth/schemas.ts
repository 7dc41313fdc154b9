import { z } from "zod";
import { isStorableText, storableText } from "../text.js";

/** The same rules the legacy client checks before it sends, enforced here too. */
export const usernameSchema = z
  .string()
  .trim()
  .min(3, "用户名需 3-20 个字符")
  .max(20, "用户名需 3-20 个字符")
  .regex(/^[a-zA-Z0-9_]+$/, "用户名只能包含字母、数字和下划线");

/** Never stored, only hashed; still refused when it holds what no stored text may (one rule for every string). */
export const passwordSchema = z
  .string()
  .min(6, "密码至少 6 个字符")
  .max(128, "密码最多 128 个字符")
  .refine(isStorableText, "参数错误");

export const registerInput = z.object({
  username: usernameSchema,
  password: passwordSchema,
  nickname: storableText(20, { trim: true, min: 1, tooShort: "昵称不能为空", tooLong: "昵称最多 20 个字符" }),
});
export type RegisterInput = z.infer<typeof registerInput>;

/**
 * Longer than any username or password can be (20 and 128), so an unknown name still gets the
 * legacy "用户不存在"; past it the body is refused like any other that does not bind.
 */
const LOGIN_FIELD_MAX = 128;

export const loginInput = z.object({
  username: storableText(LOGIN_FIELD_MAX, { trim: true, min: 1 }),
  password: storableText(LOGIN_FIELD_MAX, { min: 1 }),
});
export type LoginInput = z.infer<typeof loginInput>;
