import { sendMessage, sendMessageInput } from "@omnilink/domain";
import { describe, expect, it } from "vitest";
import { anyString, BIND_ERROR, containing, list, matching, registerUser, RFC3339, useTestServer, type LegacyUser as User } from "./helpers.js";

/* docs/legacy-contract.md: sessions (§2.12-§2.15, deleteSession) and history (§2.16, §2.17). */

const server = useTestServer();
const newUser = () => registerUser(server.url, "sm");

async function befriend(a: User, b: User) {
  const applied = await server.post("/contact/applyContact", { contact_id: b.uuid }, a);
  expect(applied.json.code).toBe(200);
  expect((await server.post("/contact/passContactApply", { apply_id: applied.json.data?.apply_id }, b)).json.code).toBe(200);
}

async function group(owner: User, members: User[]): Promise<string> {
  const res = await server.post("/group/createGroup", { name: "Chat", member_ids: members.map((m) => m.uuid) }, owner);
  expect(res.json.code).toBe(200);
  return String(res.json.data?.uuid);
}

/** Friends a and b, both in a group of a's, and a stranger to both. */
async function friendsInAGroup() {
  const a = await newUser();
  const b = await newUser();
  const stranger = await newUser();
  await befriend(a, b);
  const groupId = await group(a, [b]);
  return { a, b, stranger, groupId };
}

/** The /wss layer is someone else's: messages go through the running server's domain. */
const send = (from: User, receiveId: string, fields: Record<string, unknown> = {}) =>
  sendMessage(server.domain, from.uuid, sendMessageInput.parse({ receiveId, ...fields }));

describe("/session/checkOpenSessionAllowed and /session/openSession", () => {
  it("check answers data: true, or the legacy refusal texts", async () => {
    const { a, b, stranger, groupId } = await friendsInAGroup();
    const check = async (body: Record<string, unknown>, as: User = a) => (await server.post("/session/checkOpenSessionAllowed", body, as)).json;
    expect(await check({ send_id: a.uuid, receive_id: b.uuid })).toEqual({ code: 200, message: "Success", data: true });
    expect(await check({ receive_id: groupId })).toEqual({ code: 200, message: "Success", data: true });
    expect(await check({ send_id: b.uuid, receive_id: b.uuid })).toEqual({ code: 403, message: "send_id 不匹配" });
    expect(await check({ receive_id: a.uuid })).toEqual({ code: 400, message: "不能和自己创建会话" });
    expect(await check({ receive_id: "" })).toEqual({ code: 400, message: "参数错误" });
    expect(await check({ receive_id: stranger.uuid })).toEqual({ code: 403, message: "非好友关系，无法发起会话" });
    expect(await check({ receive_id: groupId }, stranger)).toEqual({ code: 403, message: "非群成员" });
    expect(await check({ receive_id: "Gnothing0000" })).toEqual({ code: 404, message: "群组不存在" });
    const wrongType = await server.post("/session/checkOpenSessionAllowed", { receive_id: 1 }, a);
    expect([wrongType.status, wrongType.json]).toEqual(BIND_ERROR);
  });

  it("open answers the SessionItem of legacy-contract §2.13, for a friend and for a group", async () => {
    const a = await newUser();
    const b = await newUser();
    await befriend(a, b);
    const res = await server.post("/session/openSession", { send_id: a.uuid, receive_id: b.uuid }, a);
    expect(res.json).toEqual({
      code: 200,
      message: "Success",
      data: {
        session_id: matching(/^S[0-9A-Za-z]{11}$/),
        send_id: a.uuid,
        receive_id: b.uuid,
        receive_name: b.nickname,
        avatar: matching(/^https?:\/\//),
        peer_id: b.uuid,
        peer_type: "U",
        peer_name: b.nickname,
        peer_avatar: matching(/^https?:\/\//),
        updated_at: matching(RFC3339),
        unread_count: 0,
        mention_count: 0,
      },
    });
    // Opening again answers the same session.
    expect((await server.post("/session/openSession", { receive_id: b.uuid }, a)).json.data?.session_id).toBe(res.json.data?.session_id);

    const groupId = await group(a, [b]);
    const g = await server.post("/session/openSession", { send_id: a.uuid, receive_id: groupId }, a);
    expect(g.json.data).toMatchObject({ session_id: matching(/^S/), peer_id: groupId, peer_type: "G", peer_name: "Chat", receive_id: groupId });
    expect(g.json.data).not.toHaveProperty("last_msg");

    expect((await server.post("/session/openSession", { send_id: b.uuid, receive_id: b.uuid }, a)).json).toEqual({ code: 403, message: "send_id 不匹配" });
    const stranger = await newUser();
    expect((await server.post("/session/openSession", { receive_id: stranger.uuid }, a)).json).toEqual({ code: 403, message: "非好友关系，无法发起会话" });
    expect((await server.post("/session/openSession", { receive_id: groupId }, stranger)).json).toEqual({ code: 403, message: "非群成员" });
  });
});

describe("/session/getUserSessionList and /session/getGroupSessionList", () => {
  it("list sessions with last_msg, updated_at and unread_count (legacy-contract D11)", async () => {
    const a = await newUser();
    const b = await newUser();
    await befriend(a, b);
    expect((await server.post("/session/getUserSessionList", { owner_id: a.uuid }, a)).json).toEqual({ code: 200, message: "Success", data: [] });
    const opened = await server.post("/session/openSession", { receive_id: b.uuid }, a);
    await send(a, b.uuid, { content: "hello b" });
    await send(a, b.uuid, { content: "are you there" });

    const mine = list(await server.post("/session/getUserSessionList", { owner_id: a.uuid }, a));
    expect(mine).toEqual([
      {
        session_id: opened.json.data?.session_id,
        peer_id: b.uuid,
        peer_type: "U",
        peer_name: b.nickname,
        peer_avatar: anyString,
        updated_at: matching(RFC3339),
        last_msg: "are you there",
        unread_count: 0,
        mention_count: 0,
      },
    ]);
    const theirs = list(await server.post("/session/getUserSessionList", {}, b));
    expect(theirs).toEqual([containing({ peer_id: a.uuid, peer_type: "U", peer_name: a.nickname, last_msg: "are you there", unread_count: 2 })]);
    for (const item of theirs) expect(Object.keys(item)).not.toContain("send_id");

    const groupId = await group(a, [b]);
    await send(b, groupId, { content: "hi group" });
    await send(b, groupId, { type: 2, url: "/static/files/x.pdf", fileName: "x.pdf", fileType: "application/pdf", fileSize: "1KB" });
    const groups = list(await server.post("/session/getGroupSessionList", { owner_id: a.uuid }, a));
    expect(groups).toEqual([
      {
        session_id: matching(/^S/),
        peer_id: groupId,
        peer_type: "G",
        peer_name: "Chat",
        peer_avatar: anyString,
        updated_at: matching(RFC3339),
        last_msg: "[多媒体消息]",
        unread_count: 2,
        mention_count: 0,
      },
    ]);
    expect(list(await server.post("/session/getGroupSessionList", {}, b))).toEqual([containing({ peer_id: groupId, unread_count: 0 })]);
    // The user list holds user peers only, the group list group peers only.
    expect(list(await server.post("/session/getUserSessionList", {}, a)).map((s) => s.peer_type)).toEqual(["U"]);

    for (const path of ["/session/getUserSessionList", "/session/getGroupSessionList"]) {
      expect((await server.post(path, { owner_id: b.uuid }, a)).json).toEqual({ code: 403, message: "owner_id 不匹配" });
      const wrongType = await server.post(path, { owner_id: true }, a);
      expect([wrongType.status, wrongType.json]).toEqual(BIND_ERROR);
    }
  });

  it("group items count my unread mentions in mention_count (legacy-contract D34, D35)", async () => {
    const { a, b, groupId } = await friendsInAGroup();
    const c = await newUser();
    expect((await server.post("/group/inviteGroupMembers", { group_id: groupId, member_ids: [c.uuid] }, a)).json.code).toBe(200);
    await send(a, groupId, { content: "@all", mentionAll: true });
    await send(a, groupId, { content: "plain" });
    // b mentions a twice and themself: stored once, without b (legacy-contract D35).
    const { message } = await send(b, groupId, { content: "@a", mentionedUserIds: [a.uuid, a.uuid, b.uuid] });
    expect(message.mentionedUserIds).toEqual([a.uuid]);
    const counts = async (u: User) => list(await server.post("/session/getGroupSessionList", {}, u)).map((s) => [s.peer_id, s.unread_count, s.mention_count]);
    expect(await counts(a)).toEqual([[groupId, 1, 1]]);
    expect(await counts(b)).toEqual([[groupId, 0, 0]]);
    expect(await counts(c)).toEqual([[groupId, 3, 1]]);
    // Private items always carry 0.
    expect(list(await server.post("/session/getUserSessionList", {}, a)).every((s) => s.mention_count === 0)).toBe(true);
  });

  it("deleteSession hides a session until a new message arrives", async () => {
    const a = await newUser();
    const b = await newUser();
    await befriend(a, b);
    const opened = await server.post("/session/openSession", { receive_id: b.uuid }, a);
    await server.post("/session/openSession", { receive_id: a.uuid }, b);
    const sessionId = String(opened.json.data?.session_id);
    expect((await server.post("/session/deleteSession", { owner_id: b.uuid, session_id: sessionId }, a)).json).toEqual({ code: 403, message: "owner_id 不匹配" });
    expect((await server.post("/session/deleteSession", { session_id: sessionId }, b)).json).toEqual({ code: 404, message: "会话不存在" });
    expect((await server.post("/session/deleteSession", { session_id: "" }, a)).json).toEqual({ code: 400, message: "参数错误" });
    expect((await server.post("/session/deleteSession", { owner_id: a.uuid, session_id: sessionId }, a)).json).toEqual({ code: 200, message: "Success" });
    expect((await server.post("/session/getUserSessionList", {}, a)).json.data).toEqual([]);
    await send(b, a.uuid, { content: "back again" });
    expect(list(await server.post("/session/getUserSessionList", {}, a))).toEqual([containing({ session_id: sessionId, last_msg: "back again" })]);
  });
});

describe("/message/getMessageList (private history)", () => {
  it("pages newest-first, each page oldest-first, items shaped as legacy-contract §4.5", async () => {
    const a = await newUser();
    const b = await newUser();
    await befriend(a, b);
    const mine = await server.post("/session/openSession", { receive_id: b.uuid }, a);
    const theirs = await server.post("/session/openSession", { receive_id: a.uuid }, b);
    for (let i = 1; i <= 25; i++) await send(i % 2 ? a : b, i % 2 ? b.uuid : a.uuid, { content: `m${i}` });
    await send(a, b.uuid, { type: 2, url: "/static/files/abc.png", fileName: "abc.png", fileType: "image/png", fileSize: "1.00KB" });

    const page1 = await server.post("/message/getMessageList", { user_one_id: a.uuid, user_two_id: b.uuid, page: 1, page_size: 20 }, a);
    expect(page1.json).toMatchObject({ code: 200, message: "Success" });
    const items = list(page1);
    expect(items).toHaveLength(20);
    expect(items.map((m) => m.content ?? "<file>")).toEqual([...Array.from({ length: 19 }, (_, i) => `m${i + 7}`), "<file>"]);
    expect(items[0]).toEqual({
      uuid: matching(/^M[0-9A-Za-z]{11}$/),
      session_id: mine.json.data?.session_id,
      send_id: a.uuid,
      send_name: a.nickname,
      send_avatar: anyString,
      receive_id: b.uuid,
      type: 0,
      content: "m7",
      created_at: matching(RFC3339),
      seq: 7,
    });
    // The sender's session id (legacy): it alternates with the sender.
    expect(items[1]).toMatchObject({ content: "m8", send_id: b.uuid, session_id: theirs.json.data?.session_id });
    expect(items[19]).toEqual({
      uuid: anyString,
      session_id: mine.json.data?.session_id,
      send_id: a.uuid,
      send_name: a.nickname,
      send_avatar: anyString,
      receive_id: b.uuid,
      type: 2,
      url: "/static/files/abc.png",
      file_name: "abc.png",
      file_type: "image/png",
      file_size: "1.00KB",
      created_at: matching(RFC3339),
      seq: 26,
    });
    const page2 = list(await server.post("/message/getMessageList", { user_one_id: a.uuid, user_two_id: b.uuid, page: 2, page_size: 20 }, a));
    expect(page2.map((m) => m.content)).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]);
    expect((await server.post("/message/getMessageList", { user_two_id: b.uuid, page: 3, page_size: 20 }, a)).json.data).toEqual([]);
    // The peer reads the same conversation; page/page_size are clamped (0 → 1 and 20).
    expect(list(await server.post("/message/getMessageList", { user_one_id: b.uuid, user_two_id: a.uuid, page: 0, page_size: 0 }, b))).toHaveLength(20);
    expect(list(await server.post("/message/getMessageList", { user_two_id: a.uuid, page: 1, page_size: 1000 }, b))).toHaveLength(26);
  });

  it("answers the legacy errors", async () => {
    const { a, b, stranger, groupId } = await friendsInAGroup();
    const err = async (body: Record<string, unknown>) => (await server.post("/message/getMessageList", { page: 1, page_size: 20, ...body }, a)).json;
    expect(await err({ user_one_id: b.uuid, user_two_id: b.uuid })).toEqual({ code: 403, message: "user_one_id 不匹配" });
    expect(await err({ user_two_id: a.uuid })).toEqual({ code: 400, message: "不能查询与自己的私聊记录" });
    expect(await err({ user_two_id: "" })).toEqual({ code: 400, message: "参数错误" });
    expect(await err({ user_two_id: stranger.uuid })).toEqual({ code: 403, message: "无权查看聊天记录" });
    // A group id is not a private peer: this route never served group history.
    expect(await err({ user_two_id: groupId })).toEqual({ code: 403, message: "无权查看聊天记录" });
    for (const bad of [{ page: "1" }, { page_size: 1.5 }, { user_two_id: 5 }]) {
      const res = await server.post("/message/getMessageList", { user_two_id: b.uuid, ...bad }, a);
      expect([res.status, res.json]).toEqual(BIND_ERROR);
    }
  });
});

describe("/message/getGroupMessageList (group history)", () => {
  it("pages the group's messages for members; items have no session_id", async () => {
    const owner = await newUser();
    const member = await newUser();
    const groupId = await group(owner, [member]);
    for (let i = 1; i <= 23; i++) await send(i % 3 ? owner : member, groupId, { content: `g${i}` });
    await send(owner, groupId, { content: "@all", mentionAll: true });
    await send(owner, groupId, { content: "@you", mentionedUserIds: [member.uuid] });

    const page1 = await server.post("/message/getGroupMessageList", { group_id: groupId, page: 1, page_size: 20 }, member);
    expect(page1.json).toMatchObject({ code: 200, message: "Success" });
    const items = list(page1);
    expect(items.map((m) => m.content)).toEqual([...Array.from({ length: 18 }, (_, i) => `g${i + 6}`), "@all", "@you"]);
    expect(items[0]).toEqual({
      uuid: matching(/^M/),
      send_id: member.uuid,
      send_name: member.nickname,
      send_avatar: anyString,
      receive_id: groupId,
      type: 0,
      content: "g6",
      created_at: matching(RFC3339),
      seq: 6,
    });
    expect(items[18]).toMatchObject({ content: "@all", mention_all: true });
    expect(items[18]).not.toHaveProperty("mentioned_user_ids");
    expect(items[19]).toMatchObject({ content: "@you", mentioned_user_ids: [member.uuid] });
    expect(items[19]).not.toHaveProperty("mention_all");
    const page2 = list(await server.post("/message/getGroupMessageList", { group_id: groupId, page: 2, page_size: 20 }, owner));
    expect(page2.map((m) => m.content)).toEqual(["g1", "g2", "g3", "g4", "g5"]);
    expect((await server.post("/message/getGroupMessageList", { group_id: groupId, page: 3, page_size: 20 }, owner)).json.data).toEqual([]);
  });

  it("answers the legacy errors", async () => {
    const owner = await newUser();
    const member = await newUser();
    const outsider = await newUser();
    await befriend(owner, member);
    const groupId = await group(owner, [member]);
    const err = async (body: Record<string, unknown>, as: User = outsider) =>
      (await server.post("/message/getGroupMessageList", { page: 1, page_size: 20, ...body }, as)).json;
    expect(await err({ group_id: groupId })).toEqual({ code: 403, message: "非群成员，无权查看消息" });
    expect(await err({ group_id: "" })).toEqual({ code: 400, message: "参数错误" });
    // A user id is not a group: this route never served private history.
    expect(await err({ group_id: member.uuid }, owner)).toEqual({ code: 403, message: "非群成员，无权查看消息" });
    expect((await server.post("/group/leaveGroup", { group_id: groupId }, member)).json.code).toBe(200);
    expect(await err({ group_id: groupId }, member)).toEqual({ code: 403, message: "非正常群成员状态" });
    const res = await server.post("/message/getGroupMessageList", { group_id: groupId, page: "2" }, owner);
    expect([res.status, res.json]).toEqual(BIND_ERROR);
  });
});
