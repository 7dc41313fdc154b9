import { isUniqueViolation, users } from "@omnilink/db";
import { eq } from "drizzle-orm";
import { isUsableAccount } from "../access.js";
import type { DomainContext } from "../context.js";
import { badRequest, conflict, forbidden, unauthorized } from "../errors.js";
import { newId } from "../ids.js";
import { hashPassword, verifyPassword } from "./password.js";
import type { LoginInput, RegisterInput } from "./schemas.js";
import type { Identity } from "./tokens.js";

export interface UserProfile {
  uuid: string;
  username: string;
  nickname: string;
  avatar: string;
  gender: number;
  birthday: string;
  signature: string;
  isAdmin: number;
  status: number;
  createdAt: Date;
}

export interface Session {
  user: UserProfile;
  token: string;
}

const profileColumns = {
  uuid: users.uuid,
  username: users.username,
  nickname: users.nickname,
  avatar: users.avatar,
  gender: users.gender,
  birthday: users.birthday,
  signature: users.signature,
  isAdmin: users.isAdmin,
  status: users.status,
  createdAt: users.createdAt,
};

export async function register(ctx: DomainContext, input: RegisterInput): Promise<Session> {
  const passwordHash = await ctx.hashing.run(input.username, () => hashPassword(input.password, ctx.scryptCost));
  try {
    const [user] = await ctx.db
      .insert(users)
      .values({ uuid: newId("U"), username: input.username, nickname: input.nickname, passwordHash })
      .returning(profileColumns);
    if (!user) throw new Error("insert returned no row");
    return { user, token: await ctx.tokens.sign(user) };
  } catch (error) {
    if (isUniqueViolation(error, "user_info_username_key")) throw conflict("用户已存在");
    throw error;
  }
}

/** Checks in the legacy order: unknown user, disabled (before the password), wrong password. */
export async function login(ctx: DomainContext, input: LoginInput): Promise<Session> {
  const [row] = await ctx.db
    .select({ ...profileColumns, passwordHash: users.passwordHash })
    .from(users)
    .where(eq(users.username, input.username))
    .limit(1);
  if (!row) throw badRequest("用户不存在");
  if (!isUsableAccount(row.status)) throw forbidden("用户已被禁用");
  if (!(await ctx.hashing.run(input.username, () => verifyPassword(input.password, row.passwordHash)))) throw badRequest("密码错误");
  const { passwordHash: _hash, ...user } = row;
  return { user, token: await ctx.tokens.sign(user) };
}

export async function getProfile(ctx: DomainContext, uuid: string): Promise<UserProfile | undefined> {
  const [row] = await ctx.db.select(profileColumns).from(users).where(eq(users.uuid, uuid)).limit(1);
  return row;
}

/**
 * The caller a token stands for, on every transport (legacy REST, tRPC over HTTP and WebSocket,
 * the legacy /wss handshake): the token must verify, and its user must still exist and be enabled
 * (legacy-contract D38). Anything else is UNAUTHORIZED, so a disabled user's client goes back to
 * the login page, where the login answers 用户已被禁用.
 */
export async function authenticateToken(ctx: DomainContext, token: string): Promise<{ identity: Identity; expiresAt: number }> {
  const verified = await ctx.tokens.verifyUntil(token);
  const [row] = await ctx.db.select({ status: users.status }).from(users).where(eq(users.uuid, verified.identity.uuid)).limit(1);
  if (!row || !isUsableAccount(row.status)) throw unauthorized("account disabled");
  return verified;
}
