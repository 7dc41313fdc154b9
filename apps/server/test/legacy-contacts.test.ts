import { describe, expect, it } from "vitest";
import { anyString, BIND_ERROR, containing, DATE_TIME, list, matching, registerUser, useTestServer, type LegacyUser as User } from "./helpers.js";

/* docs/legacy-contract.md: friends, requests and contact info (§2.5-§2.11, §2.24, blackContact). */

const server = useTestServer();
const newUser = () => registerUser(server.url, "ct");
const ok = (res: { status: number; json: { code: number } }) => expect([res.status, res.json.code]).toEqual([200, 200]);

async function apply(from: User, contactId: string, message = ""): Promise<string> {
  const res = await server.post("/contact/applyContact", { owner_id: from.uuid, contact_id: contactId, message }, from);
  expect(res.json).toMatchObject({ code: 200, message: "Success" });
  return String(res.json.data?.apply_id);
}

async function befriend(a: User, b: User): Promise<void> {
  const applyId = await apply(a, b.uuid, "hi");
  ok(await server.post("/contact/passContactApply", { apply_id: applyId, owner_id: b.uuid }, b));
}

async function group(owner: User, members: User[] = []): Promise<string> {
  const res = await server.post("/group/createGroup", { owner_id: owner.uuid, name: "G", notice: "", member_ids: members.map((m) => m.uuid) }, owner);
  ok(res);
  return String(res.json.data?.uuid);
}

describe("/contact/getUserList", () => {
  it("lists friends as {user_id, user_name, avatar, status}, [] when none, ignoring the body's owner_id", async () => {
    const a = await newUser();
    const b = await newUser();
    const empty = await server.post("/contact/getUserList", { owner_id: a.uuid }, a);
    expect(empty.json).toEqual({ code: 200, message: "Success", data: [] });
    await befriend(a, b);
    // owner_id is overwritten by the token (legacy-contract §1.5): someone else's id changes nothing.
    const res = await server.post("/contact/getUserList", { owner_id: "Usomeoneelse" }, a);
    expect(list(res)).toEqual([{ user_id: b.uuid, user_name: b.nickname, avatar: anyString, status: 0 }]);
    expect(list(await server.post("/contact/getUserList", {}, b))).toEqual([
      { user_id: a.uuid, user_name: a.nickname, avatar: anyString, status: 0 },
    ]);
    const wrongType = await server.post("/contact/getUserList", { owner_id: 12 }, a);
    expect([wrongType.status, wrongType.json]).toEqual(BIND_ERROR);
  });
});

describe("/contact/applyContact", () => {
  it("answers {apply_id} for a user or a group, and the legacy errors", async () => {
    const a = await newUser();
    const b = await newUser();
    const owner = await newUser();
    const res = await server.post("/contact/applyContact", { owner_id: a.uuid, contact_id: b.uuid, contact_type: 0, message: "hello" }, a);
    expect(res.json).toEqual({ code: 200, message: "Success", data: { apply_id: matching(/^A[0-9A-Za-z]{11}$/) } });
    // A re-apply resets the one request and keeps its id.
    expect(await apply(a, b.uuid, "again")).toBe(res.json.data?.apply_id);

    const groupId = await group(owner, [b]);
    // contact_type is ignored: the G prefix decides.
    const join = await server.post("/contact/applyContact", { owner_id: a.uuid, contact_id: groupId, contact_type: 0 }, a);
    expect(join.json.data).toEqual({ apply_id: matching(/^A/) });

    const err = async (body: Record<string, unknown>, as: User = a) => (await server.post("/contact/applyContact", body, as)).json;
    expect(await err({ contact_id: a.uuid })).toEqual({ code: 400, message: "不能添加自己" });
    expect(await err({ contact_id: "" })).toEqual({ code: 400, message: "参数错误" });
    expect(await err({ contact_id: "Unobody00000" })).toEqual({ code: 404, message: "用户不存在" });
    expect(await err({ contact_id: "Gnogroup0000" })).toEqual({ code: 404, message: "群组不存在" });
    expect(await err({ contact_id: groupId }, b)).toEqual({ code: 400, message: "已在群聊中" });
    const c = await newUser();
    await befriend(a, c);
    expect(await err({ contact_id: c.uuid })).toEqual({ code: 400, message: "已是好友" });
    const wrongType = await server.post("/contact/applyContact", { contact_id: b.uuid, contact_type: "1" }, a);
    expect([wrongType.status, wrongType.json]).toEqual(BIND_ERROR);
  });
});

describe("/contact/getNewContactList, passContactApply, refuseContactApply", () => {
  it("lists friend requests to me, then join requests for my groups prefixed [申请入群] ", async () => {
    const owner = await newUser();
    const friendAsker = await newUser();
    const joiner = await newUser();
    const groupId = await group(owner);
    const friendApply = await apply(friendAsker, owner.uuid, "let us be friends");
    const joinApply = await apply(joiner, groupId, "");

    const res = await server.post("/contact/getNewContactList", { owner_id: "ignored" }, owner);
    ok(res);
    const items = list(res);
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({
      uuid: friendApply,
      user_id: friendAsker.uuid,
      username: friendAsker.username,
      nickname: friendAsker.nickname,
      avatar: anyString,
      message: "let us be friends",
      status: 0,
      last_apply_at: matching(DATE_TIME),
    });
    expect(items[1]).toMatchObject({
      uuid: joinApply,
      user_id: joiner.uuid,
      username: joiner.username,
      nickname: joiner.nickname,
      message: "[申请入群] 申请加入群聊",
      status: 0,
      last_apply_at: matching(DATE_TIME),
    });
    // The applicant's own list does not show their request.
    expect((await server.post("/contact/getNewContactList", {}, joiner)).json.data).toEqual([]);
  });

  it("passes a friend request (both become friends) and answers the legacy errors", async () => {
    const a = await newUser();
    const b = await newUser();
    const stranger = await newUser();
    const applyId = await apply(a, b.uuid);
    const notMine = await server.post("/contact/passContactApply", { apply_id: applyId, owner_id: stranger.uuid }, stranger);
    expect(notMine.json).toEqual({ code: 403, message: "无权操作该申请" });
    const res = await server.post("/contact/passContactApply", { apply_id: applyId, owner_id: b.uuid }, b);
    expect(res.json).toEqual({ code: 200, message: "Success" });
    expect(list(await server.post("/contact/getUserList", {}, a)).map((f) => f.user_id)).toEqual([b.uuid]);
    expect(list(await server.post("/contact/getUserList", {}, b)).map((f) => f.user_id)).toEqual([a.uuid]);
    expect((await server.post("/contact/getNewContactList", {}, b)).json.data).toEqual([]);
    // Idempotent for the addressee.
    expect((await server.post("/contact/passContactApply", { apply_id: applyId }, b)).json).toEqual({ code: 200, message: "Success" });

    expect((await server.post("/contact/passContactApply", { apply_id: "" }, b)).json).toEqual({ code: 400, message: "参数错误" });
    expect((await server.post("/contact/passContactApply", {}, b)).json).toEqual({ code: 400, message: "参数错误" });
    expect((await server.post("/contact/passContactApply", { apply_id: "Anothing0000" }, b)).json).toEqual({ code: 404, message: "申请不存在" });
    const wrongType = await server.post("/contact/passContactApply", { apply_id: 7 }, b);
    expect([wrongType.status, wrongType.json]).toEqual(BIND_ERROR);
  });

  it("passes and refuses join requests for the owner only", async () => {
    const owner = await newUser();
    const member = await newUser();
    const joiner = await newUser();
    const refused = await newUser();
    const groupId = await group(owner, [member]);
    const joinApply = await apply(joiner, groupId, "let me in");
    const refusedApply = await apply(refused, groupId);

    expect((await server.post("/contact/passContactApply", { apply_id: joinApply }, member)).json).toEqual({
      code: 403,
      message: "只有群主可以审批入群申请",
    });
    expect((await server.post("/contact/refuseContactApply", { apply_id: refusedApply }, member)).json).toEqual({
      code: 403,
      message: "只有群主可以审批",
    });
    ok(await server.post("/contact/passContactApply", { apply_id: joinApply, owner_id: owner.uuid }, owner));
    ok(await server.post("/contact/refuseContactApply", { apply_id: refusedApply, owner_id: owner.uuid }, owner));
    expect((await server.post("/contact/refuseContactApply", { apply_id: joinApply }, owner)).json).toEqual({ code: 400, message: "已通过，无法拒绝" });

    const joined = list(await server.post("/contact/loadMyJoinedGroup", {}, joiner));
    expect(joined.map((g) => g.group_id)).toEqual([groupId]);
    expect(list(await server.post("/contact/loadMyJoinedGroup", {}, refused))).toEqual([]);
    const members = list(await server.post("/group/getGroupMemberList", { group_id: groupId }, owner));
    expect(members.map((m) => m.user_id).sort()).toEqual([owner.uuid, member.uuid, joiner.uuid].sort());
  });

  it("refuses a friend request: 200, then the legacy errors", async () => {
    const a = await newUser();
    const b = await newUser();
    const applyId = await apply(a, b.uuid);
    expect((await server.post("/contact/refuseContactApply", { apply_id: applyId }, a)).json).toEqual({ code: 403, message: "无权操作该申请" });
    expect((await server.post("/contact/refuseContactApply", { apply_id: applyId, owner_id: b.uuid }, b)).json).toEqual({
      code: 200,
      message: "Success",
    });
    expect((await server.post("/contact/getNewContactList", {}, b)).json.data).toEqual([]);
    expect((await server.post("/contact/getUserList", {}, a)).json.data).toEqual([]);
    expect((await server.post("/contact/refuseContactApply", { apply_id: "" }, b)).json).toEqual({ code: 400, message: "参数错误" });
    expect((await server.post("/contact/refuseContactApply", { apply_id: "Anothing0000" }, b)).json).toEqual({ code: 404, message: "申请不存在" });
    // A refused request can still be passed later (legacy).
    ok(await server.post("/contact/passContactApply", { apply_id: applyId }, b));
  });
});

describe("/contact/loadMyJoinedGroup and /contact/getContactInfo", () => {
  it("lists joined groups as {group_id, group_name, avatar}, [] when none (never null)", async () => {
    const owner = await newUser();
    const member = await newUser();
    expect((await server.post("/contact/loadMyJoinedGroup", { owner_id: owner.uuid }, owner)).json).toEqual({ code: 200, message: "Success", data: [] });
    const groupId = await group(owner, [member]);
    for (const who of [owner, member]) {
      expect(list(await server.post("/contact/loadMyJoinedGroup", { owner_id: "whatever" }, who))).toEqual([
        containing({ group_id: groupId, group_name: "G", avatar: anyString }),
      ]);
    }
    ok(await server.post("/group/dismissGroup", { group_id: groupId }, owner));
    expect((await server.post("/contact/loadMyJoinedGroup", {}, member)).json.data).toEqual([]);
  });

  it("answers a friend's card, 403 for a stranger, 400 参数错误 when empty", async () => {
    const a = await newUser();
    const b = await newUser();
    const stranger = await newUser();
    await befriend(a, b);
    const res = await server.post("/contact/getContactInfo", { contact_id: b.uuid }, a);
    expect(res.json).toEqual({
      code: 200,
      message: "Success",
      data: { contact_id: b.uuid, contact_name: b.nickname, contact_avatar: anyString, contact_signature: "", gender: 0, birthday: "" },
    });
    expect((await server.post("/contact/getContactInfo", { contact_id: stranger.uuid }, a)).json).toEqual({ code: 403, message: "无权查看该联系人" });
    expect((await server.post("/contact/getContactInfo", { contact_id: "" }, a)).json).toEqual({ code: 400, message: "参数错误" });
    const groupId = await group(a, [b]);
    expect((await server.post("/contact/getContactInfo", { contact_id: groupId }, b)).json.data).toMatchObject({
      contact_id: groupId,
      contact_name: "G",
      gender: -1,
      birthday: "",
    });
  });
});

describe("/contact/deleteContact and /contact/blackContact (legacy-contract D9)", () => {
  it("deletes a friend for both sides; owner_id must be the caller", async () => {
    const a = await newUser();
    const b = await newUser();
    await befriend(a, b);
    expect((await server.post("/contact/deleteContact", { owner_id: b.uuid, contact_id: b.uuid }, a)).json).toEqual({
      code: 403,
      message: "owner_id 不匹配",
    });
    expect((await server.post("/contact/deleteContact", { owner_id: a.uuid, contact_id: b.uuid }, a)).json).toEqual({ code: 200, message: "Success" });
    expect((await server.post("/contact/getUserList", {}, a)).json.data).toEqual([]);
    expect((await server.post("/contact/getUserList", {}, b)).json.data).toEqual([]);
    expect((await server.post("/session/checkOpenSessionAllowed", { receive_id: a.uuid }, b)).json).toEqual({
      code: 403,
      message: "非正常好友关系，无法发起会话",
    });
    const stranger = await newUser();
    expect((await server.post("/contact/deleteContact", { contact_id: stranger.uuid }, a)).json).toEqual({ code: 400, message: "非好友关系" });
    expect((await server.post("/contact/deleteContact", { contact_id: "" }, a)).json).toEqual({ code: 400, message: "参数错误" });
    // Either side may ask again afterwards.
    await befriend(b, a);
  });

  it("blocks a contact: the legacy blacklist texts follow", async () => {
    const a = await newUser();
    const b = await newUser();
    await befriend(a, b);
    expect((await server.post("/contact/blackContact", { owner_id: a.uuid, contact_id: b.uuid }, a)).json).toEqual({ code: 200, message: "Success" });
    expect((await server.post("/session/checkOpenSessionAllowed", { receive_id: b.uuid }, a)).json).toEqual({
      code: 403,
      message: "已拉黑对方，先解除拉黑状态才能发起会话",
    });
    expect((await server.post("/session/checkOpenSessionAllowed", { receive_id: a.uuid }, b)).json).toEqual({
      code: 403,
      message: "已被对方拉黑，无法发起会话",
    });
    expect((await server.post("/contact/applyContact", { contact_id: a.uuid }, b)).json).toEqual({ code: 403, message: "对方已将您拉黑" });
    expect((await server.post("/contact/blackContact", { owner_id: b.uuid, contact_id: b.uuid }, a)).json).toEqual({ code: 403, message: "owner_id 不匹配" });
    expect((await server.post("/contact/blackContact", { contact_id: a.uuid }, a)).json).toEqual({ code: 400, message: "不能拉黑自己" });
    expect((await server.post("/contact/blackContact", { contact_id: "Unobody00000" }, a)).json).toEqual({ code: 404, message: "用户不存在" });
  });
});
