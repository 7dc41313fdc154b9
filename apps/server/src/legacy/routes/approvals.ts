import {
  approveJoinRequest,
  groupIdInput,
  joinDecisionInput,
  listJoinRequests,
  listPendingJoinRequestsForOwner,
  rejectJoinRequest,
} from "@omnilink/domain";
import { z } from "zod";
import { route, str, type LegacyRoute } from "../route.js";
import { toJoinRequest } from "../shapes/contacts.js";

const decisionBody = z.object({ owner_id: str, group_id: str, apply_id: str });
/** An empty `group_id` means "not given": the request's own group is then used. */
const toDecision = (b: z.output<typeof decisionBody>) => ({ applyId: b.apply_id, groupId: b.group_id === "" ? undefined : b.group_id });
const decisionData = (d: { applyId: string; groupId: string; applicantId: string; changed: boolean }) => ({
  apply_id: d.applyId,
  group_id: d.groupId,
  user_id: d.applicantId,
  changed: d.changed,
});

/**
 * Join approval for owners (legacy-contract §2.30, D10). These paths never existed in the legacy
 * server; their bodies follow the product brief. `owner_id`, when sent, must be the caller (§1.5).
 */
export const approvalRoutes: LegacyRoute[] = [
  route({
    path: "/contact/getAddGroupList",
    // {group_id}: that group's pending requests (owner only); no group_id: those of every group I own.
    bind: decisionBody.pick({ owner_id: true, group_id: true }),
    identity: "owner_id",
    map: (b) => ({ groupId: b.group_id === "" ? undefined : b.group_id }),
    rules: groupIdInput.partial(),
    handle: async (env, input, caller) => {
      const { groupId } = input;
      if (groupId === undefined) {
        return (await listPendingJoinRequestsForOwner(env.domain, caller.uuid)).map((r) => toJoinRequest(r, r.groupId));
      }
      return (await listJoinRequests(env.domain, caller.uuid, groupId)).map((r) => toJoinRequest(r, groupId));
    },
  }),
  route({
    path: "/group/getJoinApplyList",
    bind: decisionBody.pick({ owner_id: true, group_id: true }),
    identity: "owner_id",
    map: (b) => ({ groupId: b.group_id }),
    rules: groupIdInput,
    handle: async (env, input, caller) =>
      (await listJoinRequests(env.domain, caller.uuid, input.groupId)).map((r) => toJoinRequest(r, input.groupId)),
  }),
  route({
    path: "/group/approveJoin",
    bind: decisionBody,
    identity: "owner_id",
    map: toDecision,
    rules: joinDecisionInput,
    handle: async (env, input, caller) => decisionData(await approveJoinRequest(env.domain, caller.uuid, input.applyId, input.groupId)),
  }),
  route({
    path: "/group/rejectJoin",
    bind: decisionBody,
    identity: "owner_id",
    map: toDecision,
    rules: joinDecisionInput,
    handle: async (env, input, caller) => decisionData(await rejectJoinRequest(env.domain, caller.uuid, input.applyId, input.groupId)),
  }),
];
