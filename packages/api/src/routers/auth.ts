import { getProfile, login, loginInput, register, registerInput } from "@omnilink/domain";
import { TRPCError } from "@trpc/server";
import { protectedProcedure, publicProcedure, router } from "../trpc.js";

export const authRouter = router({
  register: publicProcedure.input(registerInput).mutation(async ({ ctx, input }) => {
    const attempt = await ctx.admitAuth?.("register", input.username);
    const session = await register(ctx.domain, input);
    attempt?.succeeded();
    return session;
  }),
  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    const attempt = await ctx.admitAuth?.("login", input.username);
    const session = await login(ctx.domain, input);
    attempt?.succeeded();
    return session;
  }),
  me: protectedProcedure.query(async ({ ctx }) => {
    const profile = await getProfile(ctx.domain, ctx.user.uuid);
    if (!profile) throw new TRPCError({ code: "UNAUTHORIZED", message: "invalid token" });
    return profile;
  }),
});
