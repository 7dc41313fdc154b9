import { getProfile, login, loginInput, register, registerInput } from "@omnilink/domain";
import { TRPCError } from "@trpc/server";
import { protectedProcedure, publicProcedure, router } from "../trpc.js";

export const authRouter = router({
  register: publicProcedure.input(registerInput).mutation(({ ctx, input }) => register(ctx.domain, input)),
  login: publicProcedure.input(loginInput).mutation(({ ctx, input }) => login(ctx.domain, input)),
  me: protectedProcedure.query(async ({ ctx }) => {
    const profile = await getProfile(ctx.domain, ctx.user.uuid);
    if (!profile) throw new TRPCError({ code: "UNAUTHORIZED", message: "invalid token" });
    return profile;
  }),
});
