import {
  applyContact,
  applyContactInput,
  approveApply,
  blockContact,
  blockContactInput,
  contactApplyIdInput,
  contactInfoInput,
  deleteFriend,
  deleteFriendInput,
  getContactInfo,
  listFriends,
  listPendingApplies,
  rejectApply,
  unblockContact,
} from "@omnilink/domain";
import { protectedProcedure, router } from "../trpc.js";

export const contactsRouter = router({
  /** A friend request, or a join request when contactId is a group id. */
  request: protectedProcedure.input(applyContactInput).mutation(({ ctx, input }) => applyContact(ctx.domain, ctx.user.uuid, input)),
  /** Requests waiting for me: friend requests to me and join requests for groups I own. */
  pending: protectedProcedure.query(({ ctx }) => listPendingApplies(ctx.domain, ctx.user.uuid)),
  approve: protectedProcedure.input(contactApplyIdInput).mutation(({ ctx, input }) => approveApply(ctx.domain, ctx.user.uuid, input.applyId)),
  reject: protectedProcedure.input(contactApplyIdInput).mutation(({ ctx, input }) => rejectApply(ctx.domain, ctx.user.uuid, input.applyId)),
  friends: protectedProcedure.query(({ ctx }) => listFriends(ctx.domain, ctx.user.uuid)),
  delete: protectedProcedure.input(deleteFriendInput).mutation(({ ctx, input }) => deleteFriend(ctx.domain, ctx.user.uuid, input)),
  block: protectedProcedure.input(blockContactInput).mutation(({ ctx, input }) => blockContact(ctx.domain, ctx.user.uuid, input)),
  unblock: protectedProcedure.input(blockContactInput).mutation(({ ctx, input }) => unblockContact(ctx.domain, ctx.user.uuid, input)),
  info: protectedProcedure.input(contactInfoInput).query(({ ctx, input }) => getContactInfo(ctx.domain, ctx.user.uuid, input)),
});
