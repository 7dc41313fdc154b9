import { describe, expect, it } from "vitest";
import { anyString, containing, matching, useTestServer } from "./helpers.js";
import { openLegacySocket } from "./wss-client.js";

/*
 * The legacy web client's own call sequence (views/*.vue, store/index.js), step by step, against
 * the real server: the group loop (create → apply → approve → sessions → history → leave →
 * dismiss) and the private loop (apply → accept → open → history). Messages go over /wss as
 * Chat.vue sends them, and every member's socket receives them live.
 */

const server = useTestServer();

interface ClientState {
  token: string;
  userInfo: { uuid: string; username: string; nickname: string; avatar: string; token: string };
}

type Envelope = { code: number; message: string; data?: unknown };

/** axios as the client sets it up: JSON POST with `Authorization: Bearer <token>` whenever a token is held. */
async function post(state: ClientState | undefined, path: string, body: unknown): Promise<{ status: number; data: Envelope }> {
  const res = await server.post(path, body, state);
  return { status: res.status, data: res.json };
}

const items = (res: { data: Envelope }) => (res.data.data ?? []) as Array<Record<string, unknown>>;

/** Register.vue: on code 200 with a token the whole `data` becomes userInfo. */
async function register(username: string, nickname: string): Promise<ClientState> {
  const res = await post(undefined, "/register", { username, nickname, password: "secret123" });
  expect(res.data.code).toBe(200);
  const data = res.data.data as ClientState["userInfo"];
  expect(data.token).toBeTruthy();
  return { token: data.token, userInfo: data };
}

/** store.loadSessions: both lists in parallel (code ignored), concatenated, newest first. */
async function loadSessions(me: ClientState) {
  const [users, groups] = await Promise.all([
    post(me, "/session/getUserSessionList", { owner_id: me.userInfo.uuid }),
    post(me, "/session/getGroupSessionList", { owner_id: me.userInfo.uuid }),
  ]);
  return [...items(users), ...items(groups)].sort(
    (a, b) => new Date(String(b.updated_at)).getTime() - new Date(String(a.updated_at)).getTime(),
  );
}

/** Chat page load: sessions, pending applies, the AI probes (404 tolerated, never 401: legacy-contract D17), contacts. */
async function openChatPage(me: ClientState) {
  const sessions = await loadSessions(me);
  const pending = await post(me, "/contact/getNewContactList", { owner_id: me.userInfo.uuid });
  expect(pending.data.code).toBe(200);
  for (const path of ["/ai/assistant/system-session", "/ai/assistant/sessions"]) {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${me.token}` } });
    expect(res.status).toBe(404);
  }
  const [friends, groups] = await Promise.all([
    post(me, "/contact/getUserList", { owner_id: me.userInfo.uuid }),
    post(me, "/contact/loadMyJoinedGroup", { owner_id: me.userInfo.uuid }),
  ]);
  return { sessions, pending: items(pending), friends: items(friends), groups: items(groups) };
}

/** Chat.vue loadHistoryMessages: page 1, then "load more" while a page is full (20). */
async function loadAllHistory(me: ClientState, path: string, body: Record<string, unknown>) {
  const pages: Array<Array<Record<string, unknown>>> = [];
  for (let page = 1; page < 10; page++) {
    const res = await post(me, path, { ...body, page, page_size: 20 });
    const list = items(res);
    pages.push(list);
    if (list.length < 20) break;
  }
  // Page 1 replaces, later pages are prepended.
  return { pages, messages: pages.reduceRight<Array<Record<string, unknown>>>((acc, p) => [...acc, ...p], []) };
}

/** store.connectWebSocket: `${wsUrl}/wss?client_id=<uuid>&token=<jwt>`. */
const sockets = new Map<string, Awaited<ReturnType<typeof openLegacySocket>>>();
async function connectWebSocket(me: ClientState) {
  sockets.set(me.userInfo.uuid, await openLegacySocket(server.url, me.userInfo.uuid, me.token));
}
const socketOf = (me: ClientState) => sockets.get(me.userInfo.uuid)!;

/** Chat.vue handleSendMessage's frame; the server's echo is how the sender sees its own message. */
async function sendAs(me: ClientState, receiveId: string, content: string, sessionId = "") {
  const socket = socketOf(me);
  socket.send({
    session_id: sessionId,
    type: 0,
    content,
    url: "",
    send_id: me.userInfo.uuid,
    send_name: me.userInfo.nickname,
    send_avatar: me.userInfo.avatar,
    receive_id: receiveId,
    file_name: "",
    file_size: "",
    file_type: "",
  });
  await socket.until(() => socket.messages().some((m) => m.content === content));
}

describe("legacy client scenario", () => {
  it("runs the group loop and the private loop the way the web client calls them", async () => {
    const stamp = Date.now() % 100000;
    // --- three registrations, then a login (Login.vue) ---
    const ownerReg = await register(`owner_${stamp}`, "Owner");
    const alice = await register(`alice_${stamp}`, "Alice");
    const bob = await register(`bob_${stamp}`, "Bob");
    const login = await post(undefined, "/login", { username: `owner_${stamp}`, password: "secret123" });
    expect(login.data.code).toBe(200);
    const loginData = login.data.data as ClientState["userInfo"];
    expect(loginData.uuid).toBe(ownerReg.userInfo.uuid);
    const owner: ClientState = { token: loginData.token, userInfo: loginData };

    const first = await openChatPage(owner);
    expect(first).toEqual({ sessions: [], pending: [], friends: [], groups: [] });

    // --- CreateGroupDialog: createGroup → loadSessions → openSession → loadSessions → select ---
    const created = await post(owner, "/group/createGroup", {
      owner_id: owner.userInfo.uuid,
      name: "Weekend trip",
      notice: "Bring snacks",
      member_ids: [alice.userInfo.uuid],
    });
    expect(created.data.code).toBe(200);
    const groupInfo = created.data.data as { uuid?: string; group_id?: string };
    const groupId = String(groupInfo.uuid || groupInfo.group_id);
    await loadSessions(owner);
    const opened = await post(owner, "/session/openSession", { send_id: owner.userInfo.uuid, receive_id: groupId });
    expect(opened.data.code).toBe(200);
    const ownerSessions = await loadSessions(owner);
    const selected = ownerSessions.find((s) => s.peer_id === groupId);
    expect(selected).toMatchObject({ session_id: matching(/^S/), peer_type: "G", peer_name: "Weekend trip", unread_count: 0 });

    // ChatWindow on select: the input check, the member count, the @-picker's member list.
    expect((await post(owner, "/session/checkOpenSessionAllowed", { send_id: owner.userInfo.uuid, receive_id: groupId })).data).toEqual({
      code: 200,
      message: "Success",
      data: true,
    });
    expect((await post(owner, "/group/getGroupInfo", { owner_id: owner.userInfo.uuid, group_id: groupId })).data.data).toMatchObject({
      member_cnt: 2,
      owner_id: owner.userInfo.uuid,
    });
    expect(items(await post(owner, "/group/getGroupMemberList", { group_id: groupId })).map((m) => m.user_id)).toEqual([
      owner.userInfo.uuid,
      alice.userInfo.uuid,
    ]);

    // --- Bob asks to join (ContactList.handleApply with the group id) ---
    const applied = await post(bob, "/contact/applyContact", { owner_id: bob.userInfo.uuid, contact_id: groupId, message: "" });
    expect(applied.data).toEqual({ code: 200, message: "Success", data: { apply_id: matching(/^A/) } });
    expect((await openChatPage(bob)).groups).toEqual([]);

    // --- the owner's pending list (store.loadPendingApplies) and ContactList.handleAccept ---
    const pending = (await openChatPage(owner)).pending;
    expect(pending).toHaveLength(1);
    const item = pending[0] as { uuid?: string; id?: string; nickname?: string; username?: string; message?: string };
    expect([item.nickname || item.username, item.message]).toEqual(["Bob", "[申请入群] 申请加入群聊"]);
    const accepted = await post(owner, "/contact/passContactApply", { apply_id: item.uuid || item.id, owner_id: owner.userInfo.uuid });
    expect(accepted.data).toEqual({ code: 200, message: "Success" });
    expect((await post(owner, "/contact/getNewContactList", { owner_id: owner.userInfo.uuid })).data.data).toEqual([]);

    // Bob now has the group in his contacts and his session list (legacy-contract D7).
    const bobPage = await openChatPage(bob);
    expect(bobPage.groups.map((g) => g.group_id)).toEqual([groupId]);
    expect(bobPage.sessions).toEqual([containing({ peer_id: groupId, peer_type: "G", peer_name: "Weekend trip" })]);

    // --- group messages over /wss, both ways; every member's socket gets each one live ---
    const senders = [owner, alice, bob];
    for (const me of senders) await connectWebSocket(me);
    for (let i = 1; i <= 45; i++) {
      const from = senders[i % 3] as ClientState;
      await sendAs(from, groupId, `msg ${i} from ${from.userInfo.nickname}`);
    }
    for (const me of senders) {
      await socketOf(me).until(() => socketOf(me).messages().length === 45);
      const live = socketOf(me).messages();
      expect(live.map((m) => m.seq)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    }
    const groupSession = (await loadSessions(alice)).find((s) => s.peer_id === groupId);
    // Sending reads the conversation up to one's own message: Alice last sent msg 43.
    expect(groupSession).toMatchObject({ last_msg: "msg 45 from Owner", unread_count: 2 });

    const history = await loadAllHistory(alice, "/message/getGroupMessageList", { group_id: groupId });
    expect(history.pages.map((p) => p.length)).toEqual([20, 20, 5]);
    expect(history.messages.map((m) => m.content)).toEqual(Array.from({ length: 45 }, (_, i) => `msg ${i + 1} from ${(senders[(i + 1) % 3] as ClientState).userInfo.nickname}`));
    for (const m of history.messages) {
      expect(m).toMatchObject({ uuid: matching(/^M/), receive_id: groupId, type: 0, send_name: anyString });
      expect(m).not.toHaveProperty("session_id");
    }
    // Everyone sees the same ids in the same order.
    const ownerHistory = await loadAllHistory(owner, "/message/getGroupMessageList", { group_id: groupId });
    expect(ownerHistory.messages.map((m) => m.uuid)).toEqual(history.messages.map((m) => m.uuid));

    // --- GroupInfo: Bob leaves, then the owner dismisses ---
    expect((await post(bob, "/group/leaveGroup", { owner_id: bob.userInfo.uuid, group_id: groupId })).data).toEqual({ code: 200, message: "Success" });
    expect(await loadSessions(bob)).toEqual([]);
    expect((await post(bob, "/message/getGroupMessageList", { group_id: groupId, page: 1, page_size: 20 })).data.code).toBe(403);
    expect((await post(owner, "/group/getGroupInfo", { group_id: groupId })).data.data).toMatchObject({ member_cnt: 2 });

    expect((await post(owner, "/group/dismissGroup", { owner_id: owner.userInfo.uuid, group_id: groupId })).data).toEqual({
      code: 200,
      message: "Success",
    });
    expect(await loadSessions(alice)).toEqual([]);
    expect(await loadSessions(owner)).toEqual([]);
    expect((await openChatPage(alice)).groups).toEqual([]);
    expect((await post(alice, "/session/checkOpenSessionAllowed", { send_id: alice.userInfo.uuid, receive_id: groupId })).data).toEqual({
      code: 403,
      message: "群组状态异常",
    });

    // --- the private loop: Alice asks Bob, Bob accepts, Alice opens the chat ---
    const friendApply = await post(alice, "/contact/applyContact", { owner_id: alice.userInfo.uuid, contact_id: bob.userInfo.uuid, message: "" });
    expect(friendApply.data.code).toBe(200);
    const bobPending = (await openChatPage(bob)).pending;
    expect(bobPending).toEqual([containing({ uuid: (friendApply.data.data as { apply_id: string }).apply_id, user_id: alice.userInfo.uuid, nickname: "Alice", message: "" })]);
    expect((await post(bob, "/contact/passContactApply", { apply_id: bobPending[0]?.uuid, owner_id: bob.userInfo.uuid })).data.code).toBe(200);
    expect((await openChatPage(alice)).friends).toEqual([{ user_id: bob.userInfo.uuid, user_name: "Bob", avatar: anyString, status: 0 }]);

    // ContactList.handleChat: check (code 200 and data === true), then openSession.
    const check = await post(alice, "/session/checkOpenSessionAllowed", { send_id: alice.userInfo.uuid, receive_id: bob.userInfo.uuid });
    expect(check.data.code === 200 && check.data.data === true).toBe(true);
    const chat = await post(alice, "/session/openSession", { send_id: alice.userInfo.uuid, receive_id: bob.userInfo.uuid });
    expect(chat.data.data).toMatchObject({ session_id: matching(/^S/), peer_name: "Bob", peer_avatar: anyString });

    const aliceSession = String((chat.data.data as { session_id: string }).session_id);
    const bobSession = String((await loadSessions(bob)).find((x) => x.peer_id === alice.userInfo.uuid)?.session_id);
    for (let i = 1; i <= 23; i++) {
      if (i % 2) await sendAs(alice, bob.userInfo.uuid, `private ${i}`, aliceSession);
      else await sendAs(bob, alice.userInfo.uuid, `private ${i}`, bobSession);
    }
    // Each side's live copy carries its own session id (legacy-contract §3.4 a).
    await socketOf(bob).until(() => socketOf(bob).messages().filter((m) => String(m.content).startsWith("private")).length === 23);
    const bobsLive = socketOf(bob).messages().filter((m) => String(m.content).startsWith("private"));
    expect(new Set(bobsLive.map((m) => m.session_id))).toEqual(new Set([bobSession]));
    sockets.forEach((socket) => socket.close());
    const privateHistory = await loadAllHistory(alice, "/message/getMessageList", {
      user_one_id: alice.userInfo.uuid,
      user_two_id: bob.userInfo.uuid,
    });
    expect(privateHistory.pages.map((p) => p.length)).toEqual([20, 3]);
    expect(privateHistory.messages.map((m) => m.content)).toEqual(Array.from({ length: 23 }, (_, i) => `private ${i + 1}`));
    for (const m of privateHistory.messages) expect(m).toMatchObject({ session_id: matching(/^S/), created_at: anyString });

    // Bob's side: the session Alice's openSession created, with his unread count (he last sent "private 22").
    const bobSessions = await loadSessions(bob);
    expect(bobSessions).toEqual([
      containing({ peer_id: alice.userInfo.uuid, peer_type: "U", peer_name: "Alice", last_msg: "private 23", unread_count: 1 }),
    ]);
    const bobHistory = await loadAllHistory(bob, "/message/getMessageList", { user_one_id: bob.userInfo.uuid, user_two_id: alice.userInfo.uuid });
    expect(bobHistory.messages.map((m) => m.uuid)).toEqual(privateHistory.messages.map((m) => m.uuid));
  });
});
