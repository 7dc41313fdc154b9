import {
  checkOpenAllowed,
  deleteSession,
  deleteSessionInput,
  listSessions,
  listSessionsInput,
  markReadInput,
  markSessionRead,
  openSession,
  peerInput,
} from "@omnilink/domain";
import { protectedProcedure, router } from "../trpc.js";

export const sessionsRouter = router({
  list: protectedProcedure.input(listSessionsInput).query(({ ctx, input }) => listSessions(ctx.domain, ctx.user.uuid, input)),
  open: protectedProcedure.input(peerInput).mutation(({ ctx, input }) => openSession(ctx.domain, ctx.user.uuid, input.peerId)),
  checkAllowed: protectedProcedure.input(peerInput).query(({ ctx, input }) => checkOpenAllowed(ctx.domain, ctx.user.uuid, input.peerId)),
  delete: protectedProcedure.input(deleteSessionInput).mutation(({ ctx, input }) => deleteSession(ctx.domain, ctx.user.uuid, input)),
  markRead: protectedProcedure.input(markReadInput).mutation(({ ctx, input }) => markSessionRead(ctx.domain, ctx.user.uuid, input)),
});
