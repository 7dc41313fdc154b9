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
  listJoinedGroups,
  listPendingApplies,
  rejectApply,
} from "@omnilink/domain";
import { z } from "zod";
import { int, route, str, type LegacyRoute } from "../route.js";
import { toContactInfo, toFriendItem, toGroupListItem, toPendingApply } from "../shapes/contacts.js";

/** Only the caller's own lists: the body's `owner_id` is bound (type-checked) and then overwritten by the token (legacy-contract §1.5). */
const ownerOnly = z.object({ owner_id: str });
const applyDecision = z.object({ owner_id: str, apply_id: str });

/** Friends, requests and contact info: §2.5-§2.11, §2.24 and /contact/blackContact (legacy-contract D9). */
export const contactRoutes: LegacyRoute[] = [
  route({
    path: "/contact/getUserList",
    bind: ownerOnly,
    handle: async (env, _input, caller) => (await listFriends(env.domain, caller.uuid)).map(toFriendItem),
  }),
  route({
    path: "/contact/loadMyJoinedGroup",
    bind: ownerOnly,
    // The legacy server could answer `data: null` here (legacy-contract §2.6 quirk); we always send a list, `[]` when empty.
    handle: async (env, _input, caller) => (await listJoinedGroups(env.domain, caller.uuid)).map(toGroupListItem),
  }),
  route({
    path: "/contact/getContactInfo",
    // `owner_id` is `json:"-"` in the legacy request: the caller is the token.
    bind: z.object({ contact_id: str }),
    map: (b) => ({ contactId: b.contact_id }),
    rules: contactInfoInput,
    handle: async (env, input, caller) => toContactInfo(await getContactInfo(env.domain, caller.uuid, input)),
  }),
  route({
    path: "/contact/applyContact",
    // `contact_type` is bound (so a wrong type is still 400) but ignored: the id decides (G… is a group).
    bind: z.object({ owner_id: str, contact_id: str, contact_type: int, message: str }),
    map: (b) => ({ contactId: b.contact_id, message: b.message }),
    rules: applyContactInput,
    // The `contact.apply` push reaches the target (or the group's owner) through the live stream:
    // the request.created event becomes that frame in the /wss layer.
    handle: async (env, input, caller) => ({ apply_id: (await applyContact(env.domain, caller.uuid, input)).applyId }),
  }),
  route({
    path: "/contact/getNewContactList",
    bind: ownerOnly,
    handle: async (env, _input, caller) => (await listPendingApplies(env.domain, caller.uuid)).map(toPendingApply),
  }),
  route({
    path: "/contact/passContactApply",
    bind: applyDecision,
    map: (b) => ({ applyId: b.apply_id }),
    rules: contactApplyIdInput,
    handle: async (env, input, caller) => {
      await approveApply(env.domain, caller.uuid, input.applyId);
    },
  }),
  route({
    path: "/contact/refuseContactApply",
    bind: applyDecision,
    map: (b) => ({ applyId: b.apply_id }),
    rules: contactApplyIdInput,
    handle: async (env, input, caller) => {
      await rejectApply(env.domain, caller.uuid, input.applyId);
    },
  }),
  route({
    path: "/contact/deleteContact",
    // Never registered by the legacy server (legacy-contract §2.24): our rule for new routes is §1.5's strict one.
    bind: z.object({ owner_id: str, contact_id: str }),
    identity: "owner_id",
    map: (b) => ({ friendId: b.contact_id }),
    rules: deleteFriendInput,
    handle: async (env, input, caller) => {
      await deleteFriend(env.domain, caller.uuid, input);
    },
  }),
  route({
    path: "/contact/blackContact",
    bind: z.object({ owner_id: str, contact_id: str }),
    identity: "owner_id",
    map: (b) => ({ targetId: b.contact_id }),
    rules: blockContactInput,
    handle: async (env, input, caller) => {
      await blockContact(env.domain, caller.uuid, input);
    },
  }),
];
