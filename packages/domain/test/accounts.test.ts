import { users } from "@omnilink/db";
import { eq } from "drizzle-orm";
import { SignJWT, decodeJwt } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTokenService } from "../src/auth/tokens.js";
import { login, register } from "../src/auth/accounts.js";
import { registerInput } from "../src/auth/schemas.js";
import { expectAppError, useTestContext } from "./helpers.js";

const t = useTestContext();
afterEach(() => {
  vi.useRealTimers();
});

describe("register", () => {
  it("creates a U id, stores a hash (not the password) and returns a working token", async () => {
    const { user, token } = await register(t.ctx, { username: "alice", password: "secret123", nickname: "Alice" });
    expect(user.uuid).toMatch(/^U[0-9A-Za-z]{11}$/);
    expect(user).toMatchObject({ username: "alice", nickname: "Alice", gender: 0, status: 0, isAdmin: 0, birthday: "" });
    const [row] = await t.ctx.db.select({ hash: users.passwordHash }).from(users).where(eq(users.uuid, user.uuid));
    expect(row?.hash).toMatch(/^scrypt\$/);
    expect(row?.hash).not.toContain("secret123");
    expect(await t.ctx.tokens.verify(token)).toEqual({ uuid: user.uuid, username: "alice" });
  });

  it("refuses a duplicate username with the legacy text", async () => {
    await register(t.ctx, { username: "dupe", password: "secret123", nickname: "D1" });
    await expectAppError(register(t.ctx, { username: "dupe", password: "other123", nickname: "D2" }), "CONFLICT", "用户已存在");
    expect(await t.ctx.db.$count(users, eq(users.username, "dupe"))).toBe(1);
  });

  it("keeps one account when the same username registers concurrently", async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, () => register(t.ctx, { username: "racer", password: "secret123", nickname: "R" })),
    );
    expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(1);
    expect(await t.ctx.db.$count(users, eq(users.username, "racer"))).toBe(1);
  });

  it("validates input with clear messages", () => {
    expect(registerInput.safeParse({ username: "ab", password: "secret123", nickname: "x" }).success).toBe(false);
    expect(registerInput.safeParse({ username: "bad name", password: "secret123", nickname: "x" }).success).toBe(false);
    expect(registerInput.safeParse({ username: "okname", password: "123", nickname: "x" }).success).toBe(false);
    expect(registerInput.safeParse({ username: "okname", password: "123456", nickname: "" }).success).toBe(false);
    expect(registerInput.safeParse({ username: "okname", password: "123456", nickname: "x".repeat(21) }).success).toBe(false);
    expect(registerInput.safeParse({ username: "ok_name1", password: "123456", nickname: "Nick" }).success).toBe(true);
  });
});

describe("login", () => {
  beforeAll(async () => {
    await register(t.ctx, { username: "bob", password: "bobpass1", nickname: "Bob" });
  });

  it("returns the profile and a token with the legacy claims", async () => {
    const { user, token } = await login(t.ctx, { username: "bob", password: "bobpass1" });
    expect(user.username).toBe("bob");
    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(["exp", "iat", "iss", "nbf", "username", "uuid"]);
    expect(claims).toMatchObject({ uuid: user.uuid, username: "bob", iss: "OmniLink" });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(24 * 3600);
    expect(claims.nbf).toBe(claims.iat);
  });

  it("says which of user and password is wrong, as the legacy client expects", async () => {
    await expectAppError(login(t.ctx, { username: "nobody", password: "whatever" }), "BAD_REQUEST", "用户不存在");
    await expectAppError(login(t.ctx, { username: "bob", password: "wrongpass" }), "BAD_REQUEST", "密码错误");
  });

  it("refuses a disabled user before checking the password", async () => {
    await register(t.ctx, { username: "carol", password: "carolpw1", nickname: "Carol" });
    await t.ctx.db.update(users).set({ status: 1 }).where(eq(users.username, "carol"));
    await expectAppError(login(t.ctx, { username: "carol", password: "not-her-password" }), "FORBIDDEN", "用户已被禁用");
  });
});

describe("tokens", () => {
  const config = { secret: "another-secret-0123456789abcdef01234", issuer: "OmniLink", expireHours: 24 };

  it("expire after the configured lifetime", async () => {
    const tokens = createTokenService(config);
    const token = await tokens.sign({ uuid: "Uaaaaaaaaaaa", username: "a" });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 23 * 3600 * 1000);
    await expect(tokens.verify(token)).resolves.toMatchObject({ uuid: "Uaaaaaaaaaaa" });
    vi.setSystemTime(Date.now() + 2 * 3600 * 1000);
    await expectAppError(tokens.verify(token), "UNAUTHORIZED");
  });

  it("reject a token signed with another secret, a tampered one, and garbage", async () => {
    const mine = createTokenService(config);
    const theirs = createTokenService({ ...config, secret: "a-different-secret-0123456789abcdef" });
    const foreign = await theirs.sign({ uuid: "Uaaaaaaaaaaa", username: "a" });
    await expectAppError(mine.verify(foreign), "UNAUTHORIZED");
    const good = await mine.sign({ uuid: "Uaaaaaaaaaaa", username: "a" });
    const [h, , s] = good.split(".");
    const forgedPayload = Buffer.from(JSON.stringify({ uuid: "Uevil0000000", username: "x", exp: 9e9 })).toString("base64url");
    await expectAppError(mine.verify(`${h}.${forgedPayload}.${s}`), "UNAUTHORIZED");
    await expectAppError(mine.verify("not-a-jwt"), "UNAUTHORIZED");
    await expectAppError(mine.verify(""), "UNAUTHORIZED");
  });

  it("reject an unsigned token and one without the uuid claim", async () => {
    const mine = createTokenService(config);
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"uuid":"U1","username":"a","iss":"OmniLink","exp":9999999999}').toString("base64url")}.`;
    await expectAppError(mine.verify(none), "UNAUTHORIZED");
    const noUuid = await new SignJWT({ username: "a" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("OmniLink")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(config.secret));
    await expectAppError(mine.verify(noUuid), "UNAUTHORIZED");
  });
});
