import { forbidden, historyPageInput, isGroupId, listHistoryPage } from "@omnilink/domain";
import { z } from "zod";
import { int, route, str, type LegacyRoute } from "../route.js";
import { toMessageItem } from "../shapes/messages.js";

/**
 * History: legacy-contract §2.16-§2.17. Both legacy routes page newest-first and return each page oldest-first;
 * the domain clamps page/page_size. The domain's history picks private or group by the id's
 * prefix, while each legacy route served one kind only, so an id of the other kind is refused
 * with the text that route gave for it (no membership row of that kind).
 */
export const messageRoutes: LegacyRoute[] = [
  route({
    path: "/message/getMessageList",
    bind: z.object({ user_one_id: str, user_two_id: str, page: int, page_size: int }),
    identity: "user_one_id",
    map: (b) => ({ peerId: b.user_two_id, page: b.page, pageSize: b.page_size }),
    rules: historyPageInput,
    handle: async (env, input, caller) => {
      if (isGroupId(input.peerId)) throw forbidden("无权查看聊天记录");
      return (await listHistoryPage(env.domain, caller.uuid, input)).map((m) => toMessageItem(m));
    },
  }),
  route({
    path: "/message/getGroupMessageList",
    // No owner field: the caller is the token.
    bind: z.object({ group_id: str, page: int, page_size: int }),
    map: (b) => ({ peerId: b.group_id, page: b.page, pageSize: b.page_size }),
    rules: historyPageInput,
    handle: async (env, input, caller) => {
      if (!isGroupId(input.peerId)) throw forbidden("非群成员，无权查看消息");
      return (await listHistoryPage(env.domain, caller.uuid, input)).map((m) => toMessageItem(m));
    },
  }),
];
