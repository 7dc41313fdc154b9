import { recallMessage, RECALLED_PREVIEW, sendMessage, sendMessageInput } from "@omnilink/domain";
import { describe, expect, it } from "vitest";
import { list, registerUser, RFC3339, useTestServer, type LegacyUser as User } from "./helpers.js";
import { openLegacySocket } from "./wss-client.js";

/* docs/legacy-contract.md D31 (recalled messages in history), D32 (session preview), D33 (no recall frame of its own). */

const server = useTestServer();
const newUser = () => registerUser(server.url, "rc");

async function befriend(a: User, b: User) {
  const applied = await server.post("/contact/applyContact", { contact_id: b.uuid }, a);
  expect((await server.post("/contact/passContactApply", { apply_id: applied.json.data?.apply_id }, b)).json.code).toBe(200);
  for (const [me, peer] of [
    [a, b],
    [b, a],
  ] as const) {
    expect((await server.post("/session/openSession", { send_id: me.uuid, receive_id: peer.uuid }, me)).json.code).toBe(200);
  }
}

const send = (from: User, receiveId: string, fields: Record<string, unknown> = {}) =>
  sendMessage(server.domain, from.uuid, sendMessageInput.parse({ receiveId, ...fields }));

describe("recalled messages through the legacy routes (legacy-contract D31, D32)", () => {
  it("group history shows the placeholder as a text item, without url, file or mention keys, with recalled_at/recalled_by", async () => {
    const owner = await newUser();
    const member = await newUser();
    const created = await server.post("/group/createGroup", { name: "Recall", member_ids: [member.uuid] }, owner);
    const groupId = String(created.json.data?.uuid);
    await send(owner, groupId, { content: "kept" });
    const file = await send(member, groupId, {
      type: 2,
      url: "/static/files/x.pdf",
      fileType: "application/pdf",
      fileName: "x.pdf",
      fileSize: "12",
      mentionedUserIds: [owner.uuid],
    });
    await recallMessage(server.domain, member.uuid, { messageId: file.message.uuid });

    const res = await server.post("/message/getGroupMessageList", { group_id: groupId, page: 1, page_size: 20 }, owner);
    expect(res.json.code).toBe(200);
    const [kept, recalled] = list(res);
    expect(kept).not.toHaveProperty("recalled_at");
    expect(kept).toMatchObject({ content: "kept", type: 0, seq: 1 });
    expect(recalled).toEqual({
      uuid: file.message.uuid,
      send_id: member.uuid,
      send_name: member.nickname,
      send_avatar: expect.any(String) as unknown,
      receive_id: groupId,
      type: 0,
      content: RECALLED_PREVIEW,
      created_at: expect.stringMatching(RFC3339) as unknown,
      seq: 2,
      recalled_at: expect.stringMatching(RFC3339) as unknown,
      recalled_by: member.uuid,
    });
    expect(RECALLED_PREVIEW).toBe("[消息已撤回]");

    const sessions = await server.post("/session/getGroupSessionList", { owner_id: owner.uuid }, owner);
    expect(list(sessions).find((s) => s.peer_id === groupId)).toMatchObject({ last_msg: RECALLED_PREVIEW });
  });

  it("private history and the private session list likewise, for both parties", async () => {
    const a = await newUser();
    const b = await newUser();
    await befriend(a, b);
    const first = await send(a, b.uuid, { content: "hello" });
    const second = await send(a, b.uuid, { content: "wrong chat, sorry" });
    await recallMessage(server.domain, a.uuid, { messageId: second.message.uuid });
    for (const [me, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const res = await server.post("/message/getMessageList", { user_one_id: me.uuid, user_two_id: peer.uuid, page: 1, page_size: 20 }, me);
      expect(list(res).map((m) => [m.uuid, m.content, m.recalled_by ?? null])).toEqual([
        [first.message.uuid, "hello", null],
        [second.message.uuid, RECALLED_PREVIEW, a.uuid],
      ]);
      const sessions = await server.post("/session/getUserSessionList", { owner_id: me.uuid }, me);
      expect(list(sessions).find((s) => s.peer_id === peer.uuid)).toMatchObject({ last_msg: RECALLED_PREVIEW });
    }
  });

  it("/wss gets no recall frame the client would draw: only a D15 event frame without send_id/receive_id (legacy-contract D33)", async () => {
    const a = await newUser();
    const b = await newUser();
    await befriend(a, b);
    const socket = await openLegacySocket(server.url, b.uuid, b.token);
    try {
      const sent = await send(a, b.uuid, { content: "oops" });
      await socket.until((frames) => frames.some((f) => f.uuid === sent.message.uuid));
      await recallMessage(server.domain, a.uuid, { messageId: sent.message.uuid });
      const frames = await socket.until((all) => all.some((f) => f.type === "message.recalled"));
      const frame = frames.find((f) => f.type === "message.recalled");
      expect(frame).not.toHaveProperty("send_id");
      expect(frame).not.toHaveProperty("receive_id");
      expect(frame).toMatchObject({
        type: "message.recalled",
        group_id: "",
        payload: { messageId: sent.message.uuid, conversationId: sent.message.conversationId, seq: 1, by: a.uuid },
      });
    } finally {
      socket.close();
    }
  });
});
