import {
  createGroup,
  createGroupInput,
  dismissGroup,
  getGroupInfo,
  groupIdInput,
  inviteMembers,
  inviteMembersInput,
  leaveGroup,
  listGroupMembers,
  listOwnedGroups,
  removeMembers,
  removeMembersInput,
} from "@omnilink/domain";
import { z } from "zod";
import { requiredList, requiredStr, route, str, strList, type LegacyRoute } from "../route.js";
import { toGroupListItem } from "../shapes/contacts.js";
import { toGroupInfo, toGroupMember } from "../shapes/groups.js";

/** `group_id` with `binding:"required"` (HTTP 400 when missing or empty); `owner_id` bound for its type only. */
const groupBody = z.object({ owner_id: str, group_id: requiredStr });
const toGroupId = (b: { group_id: string }) => ({ groupId: b.group_id });

/** Groups: §2.18-§2.23 and /group/loadMyGroup, /group/removeGroupMembers (legacy-contract D9). */
export const groupRoutes: LegacyRoute[] = [
  route({
    path: "/group/createGroup",
    bind: z.object({ owner_id: str, name: str, notice: str, member_ids: strList }),
    identity: "owner_id",
    map: (b) => ({ name: b.name, notice: b.notice, memberIds: b.member_ids }),
    rules: createGroupInput,
    handle: async (env, input, caller) => toGroupInfo(await createGroup(env.domain, caller.uuid, input)),
  }),
  route({
    path: "/group/getGroupInfo",
    // `owner_id` is ignored: the reader is the token (legacy-contract D5: members and the owner only).
    bind: groupBody,
    map: toGroupId,
    rules: groupIdInput,
    handle: async (env, input, caller) => toGroupInfo(await getGroupInfo(env.domain, caller.uuid, input.groupId)),
  }),
  route({
    path: "/group/getGroupMemberList",
    bind: groupBody,
    map: toGroupId,
    rules: groupIdInput,
    handle: async (env, input, caller) => (await listGroupMembers(env.domain, caller.uuid, input.groupId)).map(toGroupMember),
  }),
  route({
    path: "/group/inviteGroupMembers",
    bind: z.object({ owner_id: str, group_id: requiredStr, member_ids: requiredList }),
    identity: "owner_id",
    map: (b) => ({ groupId: b.group_id, memberIds: b.member_ids }),
    rules: inviteMembersInput,
    handle: async (env, input, caller) => {
      await inviteMembers(env.domain, caller.uuid, input);
    },
  }),
  route({
    path: "/group/leaveGroup",
    bind: groupBody,
    map: toGroupId,
    rules: groupIdInput,
    handle: async (env, input, caller) => {
      await leaveGroup(env.domain, caller.uuid, input.groupId);
    },
  }),
  route({
    path: "/group/dismissGroup",
    bind: groupBody,
    map: toGroupId,
    rules: groupIdInput,
    handle: async (env, input, caller) => {
      await dismissGroup(env.domain, caller.uuid, input.groupId);
    },
  }),
  route({
    path: "/group/loadMyGroup",
    // Groups I own (never registered by the legacy server): same item as loadMyJoinedGroup.
    bind: z.object({ owner_id: str }),
    identity: "owner_id",
    handle: async (env, _input, caller) => (await listOwnedGroups(env.domain, caller.uuid)).map(toGroupListItem),
  }),
  route({
    path: "/group/removeGroupMembers",
    bind: z.object({ owner_id: str, group_id: str, member_ids: strList }),
    identity: "owner_id",
    map: (b) => ({ groupId: b.group_id, memberIds: b.member_ids }),
    rules: removeMembersInput,
    handle: async (env, input, caller) => {
      await removeMembers(env.domain, caller.uuid, input);
    },
  }),
];
