import { describe, expect, it } from "vitest";
import { listSessions } from "../src/sessions/list.js";
import { checkOpenAllowed, openSession } from "../src/sessions/open.js";
import { deleteSession, markSessionRead } from "../src/sessions/read.js";
import { friendsWithSessions, groupWith, send, setMemberStatus } from "./fixtures.js";
import { expectAppError, newUser, rejectionOf, useTestContext } from "./helpers.js";

const t = useTestContext({ groupSendBurst: 1000, groupSendPerSecond: 1000 });

const unread = async (userId: string, peerId: string) => (await listSessions(t.ctx, userId)).find((s) => s.peerId === peerId)?.unreadCount;

describe("sessions", () => {
  it("merge private and group sessions, newest activity first, with last message and unread", async () => {
    const { a, b } = await friendsWithSessions(t.ctx);
    const { owner, groupId } = await groupWith(t.ctx, 0);
    const { createGroup } = await import("../src/groups/create-group.js");
    const g = await createGroup(t.ctx, owner, { name: "mixed", memberIds: [a] });
    await send(t.ctx, b, a, "private first");
    await new Promise((r) => setTimeout(r, 10));
    await send(t.ctx, owner, g.uuid, "group later");
    const list = await listSessions(t.ctx, a);
    expect(list.map((s) => [s.peerType, s.peerId, s.lastMessage, s.unreadCount])).toEqual([
      ["G", g.uuid, "group later", 1],
      ["U", b, "private first", 1],
    ]);
    expect(list[0]?.peerName).toBe("mixed");
    expect(list.every((s) => s.updatedAt instanceof Date && /^S[0-9A-Za-z]{11}$/.test(s.sessionId))).toBe(true);
    expect((await listSessions(t.ctx, a, { kind: "group" })).map((s) => s.peerId)).toEqual([g.uuid]);
    expect((await listSessions(t.ctx, owner)).map((s) => s.peerId)).toContain(groupId);
  });

  it("count unread per member: own messages never, reads on another device move it, never negative", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 2);
    const [m1, m2] = members as [string, string];
    for (let i = 0; i < 3; i++) await send(t.ctx, owner, groupId, `o${i}`);
    await send(t.ctx, m1, groupId, "m1 speaks");
    expect(await unread(owner, groupId)).toBe(1);
    expect(await unread(m1, groupId)).toBe(0); // sending reads what came before
    expect(await unread(m2, groupId)).toBe(4);
    // "Another device" of m2 reads up to seq 2, then everything.
    expect(await markSessionRead(t.ctx, m2, { peerId: groupId, seq: 2 })).toEqual({ readSeq: 2, unreadCount: 2 });
    expect(await unread(m2, groupId)).toBe(2);
    expect(await markSessionRead(t.ctx, m2, { peerId: groupId, seq: 1 })).toEqual({ readSeq: 2, unreadCount: 2 }); // never back
    expect(await markSessionRead(t.ctx, m2, { peerId: groupId, seq: 999 })).toEqual({ readSeq: 4, unreadCount: 0 }); // never past the end
    expect(await unread(m2, groupId)).toBe(0);
    // Leaving hides the group session.
    await setMemberStatus(t.ctx, m2, groupId, 6);
    expect(await unread(m2, groupId)).toBeUndefined();
  });

  it("a deleted session is hidden until the next message", async () => {
    const { a, b } = await friendsWithSessions(t.ctx);
    await send(t.ctx, a, b, "one");
    const item = (await listSessions(t.ctx, b)).find((s) => s.peerId === a)!;
    await deleteSession(t.ctx, b, { sessionId: item.sessionId });
    expect((await listSessions(t.ctx, b)).some((s) => s.peerId === a)).toBe(false);
    await send(t.ctx, a, b, "two");
    expect((await listSessions(t.ctx, b)).find((s) => s.peerId === a)?.lastMessage).toBe("two");
    await expectAppError(deleteSession(t.ctx, a, { sessionId: item.sessionId }), "NOT_FOUND");
  });

  it("open and check follow the legacy rules", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    const stranger = await newUser(t.ctx);
    expect(await checkOpenAllowed(t.ctx, members[0]!, groupId)).toBe(true);
    expect((await rejectionOf(checkOpenAllowed(t.ctx, stranger, groupId))).message).toBe("非群成员");
    expect((await rejectionOf(checkOpenAllowed(t.ctx, owner, owner))).message).toBe("不能和自己创建会话");
    expect((await rejectionOf(checkOpenAllowed(t.ctx, owner, "Gdoesnotexist"))).message).toBe("群组不存在");
    expect((await rejectionOf(checkOpenAllowed(t.ctx, owner, stranger))).message).toBe("非好友关系，无法发起会话");
    await setMemberStatus(t.ctx, members[0]!, groupId, 8);
    expect((await rejectionOf(openSession(t.ctx, members[0]!, groupId))).message).toBe("非正常群成员状态");
    const opened = await openSession(t.ctx, owner, groupId);
    expect(opened).toMatchObject({ peerId: groupId, peerType: "G", unreadCount: 0 });
    const { a, b } = await friendsWithSessions(t.ctx);
    const again = await openSession(t.ctx, a, b);
    expect(again.peerId).toBe(b);
    expect((await listSessions(t.ctx, b)).some((s) => s.peerId === a)).toBe(true);
  });
});
