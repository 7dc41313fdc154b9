import { badRequest, getProfile, login, loginInput, publicIdText, register, registerInput } from "@omnilink/domain";
import { z } from "zod";
import { publicRoute, route, str, type LegacyRoute } from "../route.js";
import { toLoginData, toUserInfo } from "../shapes/users.js";

/** Accounts: legacy-contract §2.1-§2.4. */
export const authRoutes: LegacyRoute[] = [
  publicRoute({
    path: "/login",
    // `binding:"required"` on both: empty or missing is HTTP 400 参数错误.
    bind: loginInput,
    handle: async (env, input) => {
      const attempt = await env.admitAuth?.("login", input.username);
      const session = await login(env.domain, input);
      attempt?.succeeded();
      return toLoginData(session);
    },
  }),
  publicRoute({
    path: "/register",
    // The legacy binding has no rules (empty strings bind); ours then answer with a clear message.
    bind: z.object({ username: str, password: str, nickname: str }),
    rules: registerInput,
    handle: async (env, input) => {
      const attempt = await env.admitAuth?.("register", input.username);
      const session = await register(env.domain, input);
      attempt?.succeeded();
      return toLoginData(session);
    },
  }),
  route({
    method: "GET",
    path: "/auth/ping",
    // The raw claims, without the envelope (legacy-contract §2.3).
    raw: true,
    bind: z.unknown(),
    handle: (_env, _input, caller) => Promise.resolve({ uuid: caller.uuid, username: caller.username }),
  }),
  route({
    path: "/user/internal/getUserInfo",
    bind: z.object({ uuid: str }),
    rules: z.object({ uuid: publicIdText("uuid is required") }),
    handle: async (env, input) => {
      const profile = await getProfile(env.domain, input.uuid);
      // getProfile answers "no such user" with undefined; legacy-contract §2.4 says 400 用户不存在.
      if (!profile) throw badRequest("用户不存在");
      return toUserInfo(profile);
    },
  }),
];
