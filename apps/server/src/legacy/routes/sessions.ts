import { checkOpenAllowed, deleteSession, deleteSessionInput, listSessions, openSession, peerInput } from "@omnilink/domain";
import { z } from "zod";
import { route, str, type LegacyRoute } from "../route.js";
import { toOpenedSession, toSessionListItem } from "../shapes/sessions.js";

/** `send_id` must be empty or the caller (legacy-contract §1.5); `receive_id` is the peer user or group. */
const openBody = z.object({ send_id: str, receive_id: str });

/** Sessions: §2.12-§2.15 and /session/deleteSession (legacy-contract D9). */
export const sessionRoutes: LegacyRoute[] = [
  route({
    path: "/session/checkOpenSessionAllowed",
    bind: openBody,
    identity: "send_id",
    map: (b) => ({ peerId: b.receive_id }),
    rules: peerInput,
    // `data: true` on success; every refusal is an error code with a readable message.
    handle: (env, input, caller) => checkOpenAllowed(env.domain, caller.uuid, input.peerId),
  }),
  route({
    path: "/session/openSession",
    bind: openBody,
    identity: "send_id",
    map: (b) => ({ peerId: b.receive_id }),
    rules: peerInput,
    handle: async (env, input, caller) => toOpenedSession(await openSession(env.domain, caller.uuid, input.peerId), caller.uuid),
  }),
  route({
    path: "/session/getUserSessionList",
    bind: z.object({ owner_id: str }),
    identity: "owner_id",
    handle: async (env, _input, caller) => (await listSessions(env.domain, caller.uuid, { kind: "private" })).map(toSessionListItem),
  }),
  route({
    path: "/session/getGroupSessionList",
    bind: z.object({ owner_id: str }),
    identity: "owner_id",
    handle: async (env, _input, caller) => (await listSessions(env.domain, caller.uuid, { kind: "group" })).map(toSessionListItem),
  }),
  route({
    path: "/session/deleteSession",
    // Never registered by the legacy server; the KamaChat request was {owner_id, session_id}.
    bind: z.object({ owner_id: str, session_id: str }),
    identity: "owner_id",
    map: (b) => ({ sessionId: b.session_id }),
    rules: deleteSessionInput,
    handle: async (env, input, caller) => {
      await deleteSession(env.domain, caller.uuid, input);
    },
  }),
];
