import {
  getReadCounts,
  getReceipts,
  historyInput,
  historyPageInput,
  listHistory,
  listHistoryPage,
  readCountsInput,
  receiptsInput,
  recallMessage,
  recallMessageInput,
  searchMessages,
  searchMessagesInput,
  sendMessage,
  sendMessageInput,
} from "@omnilink/domain";
import { protectedProcedure, router } from "../trpc.js";

export const messagesRouter = router({
  send: protectedProcedure.input(sendMessageInput).mutation(({ ctx, input }) => sendMessage(ctx.domain, ctx.user.uuid, input)),
  /** Cursor paging by seq (beforeSeq / afterSeq). */
  history: protectedProcedure.input(historyInput).query(({ ctx, input }) => listHistory(ctx.domain, ctx.user.uuid, input)),
  /** The legacy page / pageSize form. */
  historyPage: protectedProcedure.input(historyPageInput).query(({ ctx, input }) => listHistoryPage(ctx.domain, ctx.user.uuid, input)),
  /** Who has read one of the caller's messages (group: active members; private: the peer). Sender only. */
  receipts: protectedProcedure.input(receiptsInput).query(({ ctx, input }) => getReceipts(ctx.domain, ctx.user.uuid, input)),
  /** "Read by N" for the caller's own messages among `seqs` in a group. */
  readCounts: protectedProcedure.input(readCountsInput).query(({ ctx, input }) => getReadCounts(ctx.domain, ctx.user.uuid, input)),
  /** Recall (撤回): the sender within the window, a group's owner or an admin (see recallMessage). */
  recall: protectedProcedure.input(recallMessageInput).mutation(({ ctx, input }) => recallMessage(ctx.domain, ctx.user.uuid, input)),
  /** Substring search of the readable messages, in one conversation (peerId) or all, newest first. */
  search: protectedProcedure.input(searchMessagesInput).query(({ ctx, input }) => searchMessages(ctx.domain, ctx.user.uuid, input)),
});
