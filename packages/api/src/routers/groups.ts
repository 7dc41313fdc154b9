import {
  joinDecisionInput,
  applyToJoinGroup,
  applyToJoinInput,
  approveJoinRequest,
  createGroup,
  createGroupInput,
  dismissGroup,
  getGroupInfo,
  groupIdInput,
  inviteMembers,
  inviteMembersInput,
  leaveGroup,
  listGroupMembers,
  listJoinedGroups,
  listJoinRequests,
  listOwnedGroups,
  rejectJoinRequest,
  removeMembers,
  removeMembersInput,
  setGroupAdmin,
  setGroupAdminInput,
  setMemberMuted,
  setMemberMutedInput,
  setMuteAll,
  setMuteAllInput,
  transferOwnership,
  transferOwnershipInput,
  updateGroup,
  updateGroupInput,
} from "@omnilink/domain";
import { protectedProcedure, router } from "../trpc.js";

export const groupsRouter = router({
  create: protectedProcedure.input(createGroupInput).mutation(({ ctx, input }) => createGroup(ctx.domain, ctx.user.uuid, input)),
  info: protectedProcedure.input(groupIdInput).query(({ ctx, input }) => getGroupInfo(ctx.domain, ctx.user.uuid, input.groupId)),
  members: protectedProcedure.input(groupIdInput).query(({ ctx, input }) => listGroupMembers(ctx.domain, ctx.user.uuid, input.groupId)),
  joined: protectedProcedure.query(({ ctx }) => listJoinedGroups(ctx.domain, ctx.user.uuid)),
  owned: protectedProcedure.query(({ ctx }) => listOwnedGroups(ctx.domain, ctx.user.uuid)),
  invite: protectedProcedure.input(inviteMembersInput).mutation(({ ctx, input }) => inviteMembers(ctx.domain, ctx.user.uuid, input)),
  requestJoin: protectedProcedure.input(applyToJoinInput).mutation(({ ctx, input }) => applyToJoinGroup(ctx.domain, ctx.user.uuid, input)),
  joinRequests: protectedProcedure.input(groupIdInput).query(({ ctx, input }) => listJoinRequests(ctx.domain, ctx.user.uuid, input.groupId)),
  approve: protectedProcedure
    .input(joinDecisionInput)
    .mutation(({ ctx, input }) => approveJoinRequest(ctx.domain, ctx.user.uuid, input.applyId, input.groupId)),
  reject: protectedProcedure
    .input(joinDecisionInput)
    .mutation(({ ctx, input }) => rejectJoinRequest(ctx.domain, ctx.user.uuid, input.applyId, input.groupId)),
  leave: protectedProcedure.input(groupIdInput).mutation(({ ctx, input }) => leaveGroup(ctx.domain, ctx.user.uuid, input.groupId)),
  removeMembers: protectedProcedure.input(removeMembersInput).mutation(({ ctx, input }) => removeMembers(ctx.domain, ctx.user.uuid, input)),
  setMuted: protectedProcedure.input(setMemberMutedInput).mutation(({ ctx, input }) => setMemberMuted(ctx.domain, ctx.user.uuid, input)),
  setAdmin: protectedProcedure.input(setGroupAdminInput).mutation(({ ctx, input }) => setGroupAdmin(ctx.domain, ctx.user.uuid, input)),
  setMuteAll: protectedProcedure.input(setMuteAllInput).mutation(({ ctx, input }) => setMuteAll(ctx.domain, ctx.user.uuid, input)),
  transferOwnership: protectedProcedure
    .input(transferOwnershipInput)
    .mutation(({ ctx, input }) => transferOwnership(ctx.domain, ctx.user.uuid, input)),
  update: protectedProcedure.input(updateGroupInput).mutation(({ ctx, input }) => updateGroup(ctx.domain, ctx.user.uuid, input)),
  dismiss: protectedProcedure.input(groupIdInput).mutation(({ ctx, input }) => dismissGroup(ctx.domain, ctx.user.uuid, input.groupId)),
});
