import { describe, expect, it } from "vitest";
import { anyString, BIND_ERROR, containing, DATE_TIME, list, matching, registerUser, RFC3339, useTestServer, type LegacyUser as User } from "./helpers.js";

/* docs/legacy-contract.md: groups (§2.18-§2.23, loadMyGroup, removeGroupMembers) and join approval (D10). */

const server = useTestServer();
const newUser = () => registerUser(server.url, "gr");
const bindStatus = async (path: string, body: unknown, as: User) => {
  const res = await server.post(path, body, as);
  return [res.status, res.json];
};

async function group(owner: User, members: User[] = [], name = "Team"): Promise<string> {
  const res = await server.post("/group/createGroup", { owner_id: owner.uuid, name, notice: "hello", member_ids: members.map((m) => m.uuid) }, owner);
  expect(res.json.code).toBe(200);
  return String(res.json.data?.uuid);
}

async function joinRequest(from: User, groupId: string, message = ""): Promise<string> {
  const res = await server.post("/contact/applyContact", { owner_id: from.uuid, contact_id: groupId, message }, from);
  expect(res.json.code).toBe(200);
  return String(res.json.data?.apply_id);
}

function expectGroupShape(data: unknown, owner: User, memberCnt: number) {
  expect(data).toEqual({
    uuid: matching(/^G[0-9A-Za-z]{11}$/),
    group_id: matching(/^G/),
    name: "Team",
    notice: "hello",
    owner_id: owner.uuid,
    member_cnt: memberCnt,
    avatar: matching(/^https?:\/\//),
    status: 0,
    add_mode: 0,
    mute_all: false,
    created_at: matching(RFC3339),
    updated_at: matching(RFC3339),
  });
  const d = data as { uuid: string; group_id: string };
  expect(d.group_id).toBe(d.uuid);
}

describe("/group/createGroup", () => {
  it("answers CreateGroupRespond with every key; members join at once", async () => {
    const owner = await newUser();
    const a = await newUser();
    const b = await newUser();
    const res = await server.post(
      "/group/createGroup",
      { owner_id: owner.uuid, name: " Team ", notice: "hello", member_ids: [a.uuid, "", b.uuid, a.uuid, owner.uuid] },
      owner,
    );
    expect(res.json).toMatchObject({ code: 200, message: "Success" });
    expectGroupShape(res.json.data, owner, 3);
    const groupId = String(res.json.data?.uuid);
    // The owner_id may also be left empty (legacy-contract §1.5).
    const again = await server.post("/group/createGroup", { name: "Team", notice: "hello", member_ids: null }, owner);
    expectGroupShape(again.json.data, owner, 1);
    // Every member has the group in its session list right away (legacy-contract D7).
    const sessions = list(await server.post("/session/getGroupSessionList", {}, a));
    expect(sessions.map((s) => s.peer_id)).toEqual([groupId]);
  });

  it("answers the legacy errors", async () => {
    const owner = await newUser();
    const other = await newUser();
    expect((await server.post("/group/createGroup", { owner_id: other.uuid, name: "x", member_ids: [] }, owner)).json).toEqual({
      code: 403,
      message: "owner_id 不匹配",
    });
    expect((await server.post("/group/createGroup", { name: "   ", member_ids: [] }, owner)).json).toMatchObject({ code: 400 });
    expect((await server.post("/group/createGroup", { name: "x", member_ids: ["Unobody00000"] }, owner)).json).toEqual({
      code: 404,
      message: "成员不存在",
    });
    expect(await bindStatus("/group/createGroup", { name: "x", member_ids: "not-a-list" }, owner)).toEqual(BIND_ERROR);
    expect(await bindStatus("/group/createGroup", { name: 5 }, owner)).toEqual(BIND_ERROR);
    expect(await bindStatus("/group/createGroup", { name: "x", member_ids: [1] }, owner)).toEqual(BIND_ERROR);
  });
});

describe("/group/getGroupInfo and /group/getGroupMemberList", () => {
  it("answer members (and the owner) with the group and its members", async () => {
    const owner = await newUser();
    const member = await newUser();
    const groupId = await group(owner, [member]);
    for (const who of [owner, member]) {
      const info = await server.post("/group/getGroupInfo", { owner_id: who.uuid, group_id: groupId }, who);
      expect(info.json).toMatchObject({ code: 200, message: "Success" });
      expectGroupShape(info.json.data, owner, 2);
    }
    // ChatWindow sends {group_id} only; owner_id is ignored whatever it says.
    for (const body of [{ group_id: groupId }, { owner_id: "Uwhoever0000", group_id: groupId }]) {
      const members = await server.post("/group/getGroupMemberList", body, member);
      expect(members.json).toMatchObject({ code: 200, message: "Success" });
      expect(list(members)).toEqual([
        { user_id: owner.uuid, username: owner.username, nickname: owner.nickname, avatar: anyString, gender: 0, role: 1, member_role: "owner" },
        { user_id: member.uuid, username: member.username, nickname: member.nickname, avatar: anyString, gender: 0, role: 0, member_role: "member" },
      ]);
    }
  });

  it("refuse non-members (legacy-contract D5) and unknown groups; group_id is required", async () => {
    const owner = await newUser();
    const outsider = await newUser();
    const groupId = await group(owner);
    for (const path of ["/group/getGroupInfo", "/group/getGroupMemberList"]) {
      expect((await server.post(path, { group_id: groupId }, outsider)).json).toEqual({ code: 403, message: "非群成员" });
      expect((await server.post(path, { group_id: "Gnothing0000" }, owner)).json).toEqual({ code: 404, message: "群组不存在" });
      expect(await bindStatus(path, { owner_id: owner.uuid }, owner)).toEqual(BIND_ERROR);
      expect(await bindStatus(path, { group_id: "" }, owner)).toEqual(BIND_ERROR);
      expect(await bindStatus(path, { group_id: 3 }, owner)).toEqual(BIND_ERROR);
    }
  });
});

describe("/group/inviteGroupMembers", () => {
  it("adds invitees at once for the owner; refuses the legacy error cases", async () => {
    const owner = await newUser();
    const member = await newUser();
    const invitee = await newUser();
    const outsider = await newUser();
    const groupId = await group(owner, [member]);
    expect((await server.post("/group/inviteGroupMembers", { owner_id: owner.uuid, group_id: groupId, member_ids: [invitee.uuid] }, owner)).json).toEqual({
      code: 200,
      message: "Success",
    });
    const info = await server.post("/group/getGroupInfo", { group_id: groupId }, invitee);
    expect(info.json.data?.member_cnt).toBe(3);

    expect((await server.post("/group/inviteGroupMembers", { owner_id: owner.uuid, group_id: groupId, member_ids: [outsider.uuid] }, member)).json).toEqual({
      code: 403,
      message: "owner_id 不匹配",
    });
    expect((await server.post("/group/inviteGroupMembers", { group_id: groupId, member_ids: [member.uuid] }, outsider)).json).toEqual({
      code: 403,
      message: "非群成员",
    });
    expect((await server.post("/group/inviteGroupMembers", { group_id: "Gnothing0000", member_ids: [outsider.uuid] }, owner)).json).toEqual({
      code: 404,
      message: "群组不存在",
    });
    expect((await server.post("/group/inviteGroupMembers", { group_id: groupId, member_ids: ["Unobody00000"] }, owner)).json).toEqual({
      code: 404,
      message: "成员不存在",
    });
    expect(await bindStatus("/group/inviteGroupMembers", { group_id: groupId, member_ids: [] }, owner)).toEqual(BIND_ERROR);
    expect(await bindStatus("/group/inviteGroupMembers", { group_id: groupId }, owner)).toEqual(BIND_ERROR);
    expect(await bindStatus("/group/inviteGroupMembers", { member_ids: [outsider.uuid] }, owner)).toEqual(BIND_ERROR);
  });
});

describe("/group/leaveGroup and /group/dismissGroup", () => {
  it("leave: members only, never the owner", async () => {
    const owner = await newUser();
    const member = await newUser();
    const outsider = await newUser();
    const groupId = await group(owner, [member]);
    expect((await server.post("/group/leaveGroup", { owner_id: owner.uuid, group_id: groupId }, owner)).json).toEqual({
      code: 403,
      message: "群主不能退群，请先转让群主或解散群",
    });
    expect((await server.post("/group/leaveGroup", { group_id: groupId }, outsider)).json).toEqual({ code: 400, message: "非群成员" });
    expect((await server.post("/group/leaveGroup", { group_id: "Gnothing0000" }, member)).json).toEqual({ code: 404, message: "群组不存在" });
    expect(await bindStatus("/group/leaveGroup", {}, member)).toEqual(BIND_ERROR);
    // owner_id is overwritten by the token (legacy-contract §1.5).
    expect((await server.post("/group/leaveGroup", { owner_id: owner.uuid, group_id: groupId }, member)).json).toEqual({ code: 200, message: "Success" });
    expect(list(await server.post("/session/getGroupSessionList", {}, member))).toEqual([]);
    expect((await server.post("/group/getGroupInfo", { group_id: groupId }, owner)).json.data?.member_cnt).toBe(1);
    expect((await server.post("/group/leaveGroup", { group_id: groupId }, member)).json).toEqual({ code: 400, message: "非群成员" });
  });

  it("dismiss: owner only, once", async () => {
    const owner = await newUser();
    const member = await newUser();
    const groupId = await group(owner, [member]);
    expect((await server.post("/group/dismissGroup", { group_id: groupId }, member)).json).toEqual({ code: 403, message: "非群主无法解散群聊" });
    expect((await server.post("/group/dismissGroup", { group_id: "Gnothing0000" }, owner)).json).toEqual({ code: 404, message: "群组不存在" });
    expect(await bindStatus("/group/dismissGroup", { owner_id: owner.uuid }, owner)).toEqual(BIND_ERROR);
    expect((await server.post("/group/dismissGroup", { owner_id: member.uuid, group_id: groupId }, owner)).json).toEqual({ code: 200, message: "Success" });
    expect((await server.post("/group/dismissGroup", { group_id: groupId }, owner)).json).toEqual({ code: 403, message: "群组已解散，请勿重复操作" });
    expect(list(await server.post("/session/getGroupSessionList", {}, member))).toEqual([]);
    expect((await server.post("/session/checkOpenSessionAllowed", { receive_id: groupId }, member)).json).toEqual({ code: 403, message: "群组状态异常" });
    expect((await server.post("/group/leaveGroup", { group_id: groupId }, member)).json).toEqual({ code: 403, message: "群组已解散或状态异常，无法退群" });
    expect((await server.post("/group/inviteGroupMembers", { group_id: groupId, member_ids: [member.uuid] }, owner)).json).toEqual({
      code: 403,
      message: "群组已解散或状态异常，无法邀请成员",
    });
  });
});

describe("/group/loadMyGroup and /group/removeGroupMembers (legacy-contract D9)", () => {
  it("loadMyGroup lists the groups I own, newest first", async () => {
    const owner = await newUser();
    const member = await newUser();
    const first = await group(owner, [member], "Team");
    const second = await group(owner, [], "Team");
    await group(member, [owner], "Team");
    const res = await server.post("/group/loadMyGroup", { owner_id: owner.uuid }, owner);
    expect(res.json).toMatchObject({ code: 200, message: "Success" });
    expect(list(res)).toEqual([
      { group_id: second, group_name: "Team", avatar: anyString, owner_id: owner.uuid, member_cnt: 1 },
      { group_id: first, group_name: "Team", avatar: anyString, owner_id: owner.uuid, member_cnt: 2 },
    ]);
    expect((await server.post("/group/loadMyGroup", { owner_id: member.uuid }, owner)).json).toEqual({ code: 403, message: "owner_id 不匹配" });
    const fresh = await newUser();
    expect((await server.post("/group/loadMyGroup", {}, fresh)).json).toEqual({ code: 200, message: "Success", data: [] });
  });

  it("removeGroupMembers: the owner kicks members; they lose the group", async () => {
    const owner = await newUser();
    const a = await newUser();
    const b = await newUser();
    const groupId = await group(owner, [a, b]);
    expect((await server.post("/group/removeGroupMembers", { group_id: groupId, member_ids: [b.uuid] }, a)).json).toEqual({
      code: 403,
      message: "只有群主可以移除成员",
    });
    expect((await server.post("/group/removeGroupMembers", { group_id: groupId, member_ids: [owner.uuid] }, owner)).json).toEqual({
      code: 400,
      message: "不能移除群主",
    });
    expect((await server.post("/group/removeGroupMembers", { owner_id: a.uuid, group_id: groupId, member_ids: [b.uuid] }, owner)).json).toEqual({
      code: 403,
      message: "owner_id 不匹配",
    });
    expect((await server.post("/group/removeGroupMembers", { group_id: groupId, member_ids: [] }, owner)).json).toEqual({ code: 400, message: "参数错误" });
    expect(await bindStatus("/group/removeGroupMembers", { group_id: groupId, member_ids: "x" }, owner)).toEqual(BIND_ERROR);
    expect((await server.post("/group/removeGroupMembers", { owner_id: owner.uuid, group_id: groupId, member_ids: [b.uuid] }, owner)).json).toEqual({
      code: 200,
      message: "Success",
    });
    const members = list(await server.post("/group/getGroupMemberList", { group_id: groupId }, owner));
    expect(members.map((m) => m.user_id)).toEqual([owner.uuid, a.uuid]);
    expect((await server.post("/group/getGroupInfo", { group_id: groupId }, b)).json).toEqual({ code: 403, message: "非群成员" });
    expect((await server.post("/message/getGroupMessageList", { group_id: groupId, page: 1, page_size: 20 }, b)).json).toEqual({
      code: 403,
      message: "非正常群成员状态",
    });
  });
});

describe("join approval paths (legacy-contract D10)", () => {
  const REQUEST_KEYS = {
    apply_id: matching(/^A/),
    uuid: matching(/^A/),
    user_id: anyString,
    username: anyString,
    nickname: anyString,
    avatar: anyString,
    message: anyString,
    status: 0,
    created_at: matching(DATE_TIME),
    last_apply_at: matching(DATE_TIME),
  };

  /** An owner with two groups (g1 with a member) and two users, x and y, not in either. */
  async function ownerWithTwoGroups() {
    const owner = await newUser();
    const member = await newUser();
    const x = await newUser();
    const y = await newUser();
    const g1 = await group(owner, [member]);
    const g2 = await group(owner);
    return { owner, member, x, y, g1, g2 };
  }

  it("getAddGroupList and getJoinApplyList list pending requests for the owner", async () => {
    const { owner, member, x, y, g1, g2 } = await ownerWithTwoGroups();
    const r1 = await joinRequest(x, g1, "please");
    const r2 = await joinRequest(y, g2);

    const all = await server.post("/contact/getAddGroupList", { owner_id: owner.uuid }, owner);
    expect(all.json).toMatchObject({ code: 200, message: "Success" });
    expect(list(all)).toEqual([
      { ...REQUEST_KEYS, apply_id: r2, uuid: r2, group_id: g2, group_name: "Team", user_id: y.uuid, message: "申请加入群聊", invited_by: "" },
      { ...REQUEST_KEYS, apply_id: r1, uuid: r1, group_id: g1, group_name: "Team", user_id: x.uuid, message: "please", invited_by: "" },
    ]);
    const one = await server.post("/contact/getAddGroupList", { group_id: g1 }, owner);
    expect(list(one)).toEqual([containing({ ...REQUEST_KEYS, apply_id: r1, group_id: g1, user_id: x.uuid, username: x.username })]);
    const byGroup = await server.post("/group/getJoinApplyList", { group_id: g1 }, owner);
    expect(byGroup.json).toMatchObject({ code: 200, message: "Success" });
    expect(list(byGroup)).toEqual(list(one));

    for (const path of ["/contact/getAddGroupList", "/group/getJoinApplyList"]) {
      expect((await server.post(path, { group_id: g1 }, member)).json).toEqual({ code: 403, message: "只有群主可以审批入群申请" });
      expect((await server.post(path, { group_id: "Gnothing0000" }, owner)).json).toEqual({ code: 404, message: "群组不存在" });
      expect((await server.post(path, { owner_id: member.uuid, group_id: g1 }, owner)).json).toEqual({ code: 403, message: "owner_id 不匹配" });
    }
    expect((await server.post("/group/getJoinApplyList", {}, owner)).json).toEqual({ code: 400, message: "参数错误" });
    expect((await server.post("/contact/getAddGroupList", {}, member)).json).toEqual({ code: 200, message: "Success", data: [] });
  });

  it("approveJoin adds the applicant; rejectJoin refuses; the group_id must match the request", async () => {
    const { owner, member, x, y, g1, g2 } = await ownerWithTwoGroups();
    const rx = await joinRequest(x, g1);
    const ry = await joinRequest(y, g1);

    expect((await server.post("/group/approveJoin", { group_id: g2, apply_id: rx }, owner)).json).toEqual({ code: 404, message: "申请不存在" });
    expect((await server.post("/group/approveJoin", { group_id: g1, apply_id: rx }, member)).json).toEqual({ code: 403, message: "只有群主可以审批入群申请" });
    expect((await server.post("/group/approveJoin", { group_id: g1, apply_id: "" }, owner)).json).toEqual({ code: 400, message: "参数错误" });
    expect((await server.post("/group/approveJoin", { group_id: g1, apply_id: "Anothing0000" }, owner)).json).toEqual({ code: 404, message: "申请不存在" });
    expect((await server.post("/group/approveJoin", { owner_id: member.uuid, group_id: g1, apply_id: rx }, owner)).json).toEqual({
      code: 403,
      message: "owner_id 不匹配",
    });
    expect(await bindStatus("/group/approveJoin", { group_id: g1, apply_id: 1 }, owner)).toEqual(BIND_ERROR);

    const approved = await server.post("/group/approveJoin", { group_id: g1, apply_id: rx }, owner);
    expect(approved.json).toEqual({ code: 200, message: "Success", data: { apply_id: rx, group_id: g1, user_id: x.uuid, changed: true } });
    // The new member has the group and its session (legacy-contract D7); the request is gone from the lists.
    expect(list(await server.post("/contact/loadMyJoinedGroup", {}, x)).map((g) => g.group_id)).toEqual([g1]);
    expect(list(await server.post("/session/getGroupSessionList", {}, x)).map((s) => s.peer_id)).toEqual([g1]);
    expect(list(await server.post("/group/getJoinApplyList", { group_id: g1 }, owner)).map((r) => r.apply_id)).toEqual([ry]);
    // Without group_id the request's own group is used.
    expect((await server.post("/group/approveJoin", { apply_id: rx }, owner)).json.data).toMatchObject({ changed: false });

    expect((await server.post("/group/rejectJoin", { group_id: g2, apply_id: ry }, owner)).json).toEqual({ code: 404, message: "申请不存在" });
    expect((await server.post("/group/rejectJoin", { group_id: g1, apply_id: ry }, member)).json).toEqual({ code: 403, message: "只有群主可以审批" });
    const rejected = await server.post("/group/rejectJoin", { group_id: g1, apply_id: ry }, owner);
    expect(rejected.json).toEqual({ code: 200, message: "Success", data: { apply_id: ry, group_id: g1, user_id: y.uuid, changed: true } });
    expect((await server.post("/group/rejectJoin", { group_id: g1, apply_id: rx }, owner)).json).toEqual({ code: 400, message: "已通过，无法拒绝" });
    expect(list(await server.post("/contact/loadMyJoinedGroup", {}, y))).toEqual([]);
    expect((await server.post("/group/getGroupInfo", { group_id: g1 }, owner)).json.data?.member_cnt).toBe(3);
  });
});
