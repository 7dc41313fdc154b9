/**
 * Contacts: friend requests and friendships (user_contact / contact_apply rows of type 0), the
 * entry points that also route group join requests to the groups module (applyContact,
 * approveApply, rejectApply, listPendingApplies), and contact info.
 */
export * from "./schemas.js";
export * from "./texts.js";
export { friendship, lockFriendPair } from "./pair.js";
export * from "./apply.js";
export * from "./decide.js";
export * from "./pending.js";
export * from "./friends.js";
export * from "./block.js";
export * from "./info.js";
