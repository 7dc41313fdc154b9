import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { list, pause, registerUser, useTestServer, type LegacyUser as User } from "./helpers.js";
import { useClients } from "./trpc-client.js";
import { openLegacySocket } from "./wss-client.js";

/*
 * Group admins and mute-all through the legacy adapter (legacy-contract D28–D30) and the typed
 * tRPC client: the owner's legacy routes accept an admin, member lists and group info carry the
 * added fields, and a send refused by mute-all is a 403 error frame on /wss and FORBIDDEN on tRPC.
 */

const server = useTestServer();
const clients = useClients();
const newUser = () => registerUser(server.url, "adm");
const trpc = (u: User) => clients(server.url, u.token);

/** A group made over the legacy route: owner, admin (appointed over tRPC, there is no legacy route), two members. */
async function staffed() {
  const [owner, admin, m1, m2] = [await newUser(), await newUser(), await newUser(), await newUser()];
  const res = await server.post("/group/createGroup", { owner_id: owner.uuid, name: "Staff", notice: "n", member_ids: [admin.uuid, m1.uuid, m2.uuid] }, owner);
  expect(res.json.code).toBe(200);
  const groupId = String(res.json.data?.uuid);
  expect(await trpc(owner).groups.setAdmin.mutate({ groupId, userId: admin.uuid, admin: true })).toEqual({ changed: true });
  return { owner, admin, m1, m2, groupId };
}

async function joinRequest(from: User, groupId: string): Promise<string> {
  const res = await server.post("/contact/applyContact", { owner_id: from.uuid, contact_id: groupId, message: "hi" }, from);
  expect(res.json.code).toBe(200);
  return String(res.json.data?.apply_id);
}

const trpcCode = (p: Promise<unknown>) =>
  p.then(
    () => "OK",
    (e: unknown) => (e instanceof TRPCClientError ? (e.data as { code?: string } | undefined)?.code : String(e)),
  );

describe("legacy routes accept admins (legacy-contract D28)", () => {
  it("member lists carry member_role; role stays 1 for the owner only (legacy-contract D29)", async () => {
    const { owner, admin, m1, m2, groupId } = await staffed();
    const members = list(await server.post("/group/getGroupMemberList", { group_id: groupId }, m1));
    expect(members.map((m) => [m.user_id, m.role, m.member_role])).toEqual([
      [owner.uuid, 1, "owner"],
      [admin.uuid, 0, "admin"],
      [m1.uuid, 0, "member"],
      [m2.uuid, 0, "member"],
    ]);
  });

  it("an admin lists, approves and refuses join requests on every legacy path", async () => {
    const { owner, admin, m1, groupId } = await staffed();
    const [x, y, z] = [await newUser(), await newUser(), await newUser()];
    const ax = await joinRequest(x, groupId);
    const ay = await joinRequest(y, groupId);
    const az = await joinRequest(z, groupId);

    const perGroup = list(await server.post("/group/getJoinApplyList", { owner_id: admin.uuid, group_id: groupId }, admin));
    expect(perGroup.map((r) => r.apply_id).sort()).toEqual([ax, ay, az].sort());
    const all = list(await server.post("/contact/getAddGroupList", {}, admin));
    expect(all.map((r) => r.apply_id).sort()).toEqual([ax, ay, az].sort());
    const pending = list(await server.post("/contact/getNewContactList", { owner_id: admin.uuid }, admin));
    expect(pending.map((r) => r.apply_id).sort()).toEqual([ax, ay, az].sort());
    // An ordinary member sees none of it.
    expect((await server.post("/group/getJoinApplyList", { group_id: groupId }, m1)).json).toEqual({ code: 403, message: "只有群主可以审批入群申请" });
    expect(list(await server.post("/contact/getNewContactList", {}, m1))).toEqual([]);

    expect((await server.post("/group/approveJoin", { owner_id: admin.uuid, group_id: groupId, apply_id: ax }, admin)).json).toMatchObject({
      code: 200,
      data: { apply_id: ax, group_id: groupId, user_id: x.uuid, changed: true },
    });
    expect((await server.post("/group/rejectJoin", { group_id: groupId, apply_id: ay }, admin)).json).toMatchObject({ code: 200, data: { changed: true } });
    expect((await server.post("/contact/passContactApply", { apply_id: az }, admin)).json).toMatchObject({ code: 200 });
    const members = list(await server.post("/group/getGroupMemberList", { group_id: groupId }, owner));
    expect(members.map((m) => m.user_id)).toEqual(expect.arrayContaining([x.uuid, z.uuid]));
    expect(members.map((m) => m.user_id)).not.toContain(y.uuid);
    // An ordinary member may not decide.
    const aw = await joinRequest(await newUser(), groupId);
    expect((await server.post("/contact/refuseContactApply", { apply_id: aw }, m1)).json).toEqual({ code: 403, message: "只有群主可以审批" });
  });

  it("an admin removes ordinary members, never the owner or another admin", async () => {
    const { owner, admin, m1, m2, groupId } = await staffed();
    await trpc(owner).groups.setAdmin.mutate({ groupId, userId: m2.uuid, admin: true });
    const forbidden = { code: 403, message: "管理员不能对群主或其他管理员操作" };
    expect((await server.post("/group/removeGroupMembers", { owner_id: admin.uuid, group_id: groupId, member_ids: [owner.uuid] }, admin)).json).toEqual(forbidden);
    expect((await server.post("/group/removeGroupMembers", { group_id: groupId, member_ids: [m1.uuid, m2.uuid] }, admin)).json).toEqual(forbidden);
    expect((await server.post("/group/removeGroupMembers", { group_id: groupId, member_ids: [m1.uuid] }, admin)).json).toMatchObject({ code: 200 });
    expect((await server.post("/group/removeGroupMembers", { group_id: groupId, member_ids: [admin.uuid] }, m2)).json).toEqual(forbidden);
    expect((await server.post("/group/dismissGroup", { group_id: groupId }, admin)).json).toEqual({ code: 403, message: "非群主无法解散群聊" });
    const members = list(await server.post("/group/getGroupMemberList", { group_id: groupId }, owner));
    expect(members.map((m) => [m.user_id, m.member_role])).toEqual([
      [owner.uuid, "owner"],
      [admin.uuid, "admin"],
      [m2.uuid, "admin"],
    ]);
  });

  it("an admin's invite into an approval group joins at once", async () => {
    const { owner, admin, groupId } = await staffed();
    await trpc(owner).groups.update.mutate({ groupId, addMode: 1 });
    const x = await newUser();
    expect((await server.post("/group/inviteGroupMembers", { owner_id: admin.uuid, group_id: groupId, member_ids: [x.uuid] }, admin)).json).toMatchObject({
      code: 200,
    });
    expect((await server.post("/group/getGroupInfo", { group_id: groupId }, x)).json).toMatchObject({ code: 200, data: { member_cnt: 5 } });
  });

  it("the contact.apply push reaches the owner and every admin on /wss", async () => {
    const { owner, admin, m1, groupId } = await staffed();
    const sockets = await Promise.all([owner, admin, m1].map((u) => openLegacySocket(server.url, u.uuid, u.token)));
    await pause();
    const applicant = await newUser();
    const applyId = await joinRequest(applicant, groupId);
    const [so, sa, sm] = sockets as [(typeof sockets)[0], (typeof sockets)[0], (typeof sockets)[0]];
    for (const s of [so, sa]) {
      await s.until((f) => f.some((x) => x.type === "contact.apply"));
      expect(s.frames.find((x) => x.type === "contact.apply")).toMatchObject({ apply_id: applyId, from_user_id: applicant.uuid });
    }
    await pause();
    expect(sm.frames.filter((x) => x.type === "contact.apply")).toEqual([]);
    for (const s of sockets) s.close();
  });
});

describe("mute-all on both transports (legacy-contract D29, D30)", () => {
  it("getGroupInfo carries mute_all; an ordinary member's send is a 403 error frame on /wss and FORBIDDEN on tRPC", async () => {
    const { owner, admin, m1, groupId } = await staffed();
    const sockets = await Promise.all([owner, admin, m1].map((u) => openLegacySocket(server.url, u.uuid, u.token)));
    const [so, sa, sm] = sockets as [(typeof sockets)[0], (typeof sockets)[0], (typeof sockets)[0]];
    await pause();
    expect(await trpc(admin).groups.setMuteAll.mutate({ groupId, muted: true })).toEqual({ changed: true });
    expect((await server.post("/group/getGroupInfo", { group_id: groupId }, m1)).json).toMatchObject({ code: 200, data: { mute_all: true } });
    // The switch is our own event frame (legacy-contract D15), with no ids the legacy client would draw.
    await sm.until((f) => f.some((x) => x.type === "group.muteAll"));
    const switchFrame = sm.frames.find((x) => x.type === "group.muteAll");
    expect(switchFrame).toMatchObject({ group_id: groupId, payload: { muted: true, by: admin.uuid } });
    expect(switchFrame).not.toHaveProperty("send_id");

    sm.send({ type: 0, content: "may I?", receive_id: groupId });
    await sm.until((f) => f.some((x) => x.type === "error"));
    expect(sm.frames.find((x) => x.type === "error")).toEqual({ type: "error", message: "Code: 403, Message: 全员禁言中，仅群主和管理员可以发言" });
    expect(await trpcCode(trpc(m1).messages.send.mutate({ receiveId: groupId, content: "and over tRPC?" }))).toBe("FORBIDDEN");

    // Owner and admin still speak, on both transports.
    sa.send({ type: 0, content: "admin over wss", receive_id: groupId });
    expect((await trpc(owner).messages.send.mutate({ receiveId: groupId, content: "owner over trpc" })).message.content).toBe("owner over trpc");
    await sm.until(() => sm.messages().length === 2);
    expect(sm.messages().map((m) => m.content).sort()).toEqual(["admin over wss", "owner over trpc"]);
    const history = await trpc(owner).messages.history.query({ peerId: groupId });
    expect(history.items.map((m) => m.content).sort()).toEqual(["admin over wss", "owner over trpc"]);

    expect(await trpc(owner).groups.setMuteAll.mutate({ groupId, muted: false })).toEqual({ changed: true });
    sm.send({ type: 0, content: "free again", receive_id: groupId });
    await so.until(() => so.messages().some((m) => m.content === "free again"));
    for (const s of sockets) s.close();
  });
});
