import { historyInput, historyPageInput, listHistory, listHistoryPage, sendMessage, sendMessageInput } from "@omnilink/domain";
import { protectedProcedure, router } from "../trpc.js";

export const messagesRouter = router({
  send: protectedProcedure.input(sendMessageInput).mutation(({ ctx, input }) => sendMessage(ctx.domain, ctx.user.uuid, input)),
  /** Cursor paging by seq (beforeSeq / afterSeq). */
  history: protectedProcedure.input(historyInput).query(({ ctx, input }) => listHistory(ctx.domain, ctx.user.uuid, input)),
  /** The legacy page / pageSize form. */
  historyPage: protectedProcedure.input(historyPageInput).query(({ ctx, input }) => listHistoryPage(ctx.domain, ctx.user.uuid, input)),
});
