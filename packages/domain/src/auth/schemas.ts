import { z } from "zod";

/** The same rules the legacy client checks before it sends, enforced here too. */
export const usernameSchema = z
  .string()
  .trim()
  .min(3, "用户名需 3-20 个字符")
  .max(20, "用户名需 3-20 个字符")
  .regex(/^[a-zA-Z0-9_]+$/, "用户名只能包含字母、数字和下划线");

export const passwordSchema = z.string().min(6, "密码至少 6 个字符").max(128, "密码最多 128 个字符");

export const registerInput = z.object({
  username: usernameSchema,
  password: passwordSchema,
  nickname: z.string().trim().min(1, "昵称不能为空").max(20, "昵称最多 20 个字符"),
});
export type RegisterInput = z.infer<typeof registerInput>;

export const loginInput = z.object({
  username: z.string().trim().min(1),
  password: z.string().min(1),
});
export type LoginInput = z.infer<typeof loginInput>;
