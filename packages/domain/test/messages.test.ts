import { contacts, conversations, messages, sessions } from "@omnilink/db";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { listHistory, listHistoryPage } from "../src/messages/history.js";
import { historyInput, historyPageInput, sendMessageInput } from "../src/messages/schemas.js";
import { sendMessage } from "../src/messages/send.js";
import { openSession } from "../src/sessions/open.js";
import { friendsWithSessions, groupWith, send, sessionRow, setMemberStatus } from "./fixtures.js";
import { createTestContext, expectAppError, newUser, rejectionOf, useTestContext } from "./helpers.js";

const t = useTestContext({ groupSendBurst: 1000, groupSendPerSecond: 1000, maxMessageBytes: 1000 });

describe("group send", () => {
  it("assigns consecutive seqs, one row per message, the same view for everyone", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 2);
    const sent = [];
    for (const [i, from] of [owner, members[0], members[1], owner].entries()) sent.push((await send(t.ctx, from!, groupId, `m${i}`)).message);
    expect(sent.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(sent.every((m) => m.receiveId === groupId && m.sessionId === "" && /^M[0-9A-Za-z]{11}$/.test(m.uuid))).toBe(true);
    expect(await t.ctx.db.$count(messages, eq(messages.conversationId, groupId))).toBe(4);
    // Ids (stream positions) grow with seq.
    expect([...sent].sort((a, b) => a.id - b.id).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const [conv] = await t.ctx.db.select().from(conversations).where(eq(conversations.id, groupId));
    expect(conv).toMatchObject({ lastSeq: 4, lastMessage: "m3", lastMessageId: sent[3]!.uuid });
  });

  it("refuses non-members, muted, left and kicked members, and dismissed groups, with the legacy texts", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 3);
    const stranger = await newUser(t.ctx);
    expect((await rejectionOf(send(t.ctx, stranger, groupId, "x"))).message).toBe("非群成员，无法发送消息");
    await setMemberStatus(t.ctx, members[0]!, groupId, 5);
    await expectAppError(send(t.ctx, members[0]!, groupId, "x"), "FORBIDDEN", "无权发送消息");
    await setMemberStatus(t.ctx, members[1]!, groupId, 6);
    expect((await rejectionOf(send(t.ctx, members[1]!, groupId, "x"))).message).toBe("无权发送消息");
    await setMemberStatus(t.ctx, members[2]!, groupId, 7);
    expect((await rejectionOf(send(t.ctx, members[2]!, groupId, "x"))).message).toBe("无权发送消息");
    await expectAppError(send(t.ctx, owner, "Gnonexistent1", "x"), "NOT_FOUND");
    // Nothing was written by the refused sends.
    expect(await t.ctx.db.$count(messages, eq(messages.conversationId, groupId))).toBe(0);
    const [conv] = await t.ctx.db.select().from(conversations).where(eq(conversations.id, groupId));
    expect(conv?.lastSeq).toBe(0);
  });

  it("writes the same rows whatever the group size: no per-member updates", async () => {
    for (const size of [2, 40]) {
      const { owner, members, groupId } = await groupWith(t.ctx, size);
      const before = await t.ctx.db.select().from(sessions).where(eq(sessions.receiveId, groupId));
      const contactsBefore = await t.ctx.db.select().from(contacts).where(eq(contacts.contactId, groupId));
      await send(t.ctx, members[0]!, groupId, "hello");
      const after = await t.ctx.db.select().from(sessions).where(eq(sessions.receiveId, groupId));
      const changed = after.filter((row) => {
        const old = before.find((b) => b.id === row.id);
        return old?.updatedAt.getTime() !== row.updatedAt.getTime() || old.readSeq !== row.readSeq;
      });
      // Only the sender's own read position moved.
      expect(changed.map((c) => c.sendId)).toEqual([members[0]]);
      expect(await t.ctx.db.select().from(contacts).where(eq(contacts.contactId, groupId))).toEqual(contactsBefore);
      expect((await sessionRow(t.ctx, owner, groupId))?.readSeq).toBe(0);
    }
  });

  it("is idempotent by clientMsgId: a retry returns the original, one row, even concurrently", async () => {
    const { owner, groupId } = await groupWith(t.ctx, 1);
    const first = await send(t.ctx, owner, groupId, "once", { clientMsgId: "c-1" });
    const again = await send(t.ctx, owner, groupId, "once (retry)", { clientMsgId: "c-1" });
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ message: first.message, duplicate: true });
    const burst = await Promise.all(Array.from({ length: 10 }, () => send(t.ctx, owner, groupId, "burst", { clientMsgId: "c-2" })));
    expect(new Set(burst.map((r) => r.message.uuid)).size).toBe(1);
    expect(burst.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await t.ctx.db.$count(messages, and(eq(messages.conversationId, groupId), eq(messages.clientMsgId, "c-2")))).toBe(1);
    // Seqs stay dense: the losing retries did not burn a seq.
    const next = await send(t.ctx, owner, groupId, "after");
    expect(next.message.seq).toBe(3);
  });

  it("limits message size and the per-group send rate", async () => {
    const { owner, groupId } = await groupWith(t.ctx, 1);
    await expectAppError(send(t.ctx, owner, groupId, "x".repeat(1001)), "PAYLOAD_TOO_LARGE");
    const limited = await createTestContext({ groupSendBurst: 3, groupSendPerSecond: 0.001, groupSendMemberShare: 1 });
    try {
      const g = await groupWith(limited.ctx, 1);
      for (let i = 0; i < 3; i++) await send(limited.ctx, g.owner, g.groupId, `ok ${i}`);
      await expectAppError(send(limited.ctx, g.owner, g.groupId, "too fast"), "RATE_LIMITED");
    } finally {
      await limited.dispose();
    }
  });
});

describe("group commit", () => {
  it("many concurrent senders: dense seqs, each sender's own order kept, refused senders do not disturb the rest", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 5);
    const stranger = await newUser(t.ctx);
    const senders = [owner, ...members];
    // Fired without waiting: every call enqueues at once, in this order.
    const calls = senders.flatMap((from) => Array.from({ length: 8 }, (_, i) => ({ from, text: `${from}:${i}`, p: send(t.ctx, from, groupId, `${from}:${i}`) })));
    const refused = send(t.ctx, stranger, groupId, "not a member");
    const results = await Promise.all(calls.map((c) => c.p));
    expect((await rejectionOf(refused)).message).toBe("非群成员，无法发送消息");
    const seqs = results.map((r) => r.message.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: calls.length }, (_, i) => i + 1));
    for (const from of senders) {
      const mine = calls.map((c, i) => ({ c, r: results[i]! })).filter((x) => x.c.from === from);
      expect(mine.map((x) => x.r.message.content)).toEqual(mine.map((x) => x.c.text));
      const own = mine.map((x) => x.r.message.seq);
      expect(own).toEqual([...own].sort((a, b) => a - b));
    }
    // Stream ids follow seqs within the conversation.
    const bySeq = [...results].sort((a, b) => a.message.seq - b.message.seq).map((r) => r.message.id);
    expect(bySeq).toEqual([...bySeq].sort((a, b) => a - b));
    const [conv] = await t.ctx.db.select().from(conversations).where(eq(conversations.id, groupId));
    expect(conv?.lastSeq).toBe(calls.length);
    expect(await t.ctx.db.$count(messages, eq(messages.conversationId, groupId))).toBe(calls.length);
  });
});

describe("failure isolation", () => {
  it("input the database would refuse is refused by the schema (400), before any queue", () => {
    for (const bad of [
      { receiveId: "Gabc", content: "nul \u0000 inside" },
      { receiveId: "Gabc", content: "lone \ud800 surrogate" },
      { receiveId: "Gabc", content: "x", fileName: "f".repeat(256) },
      { receiveId: "Gabc", content: "x", url: "u".repeat(1025) },
      { receiveId: "G abc", content: "x" },
      { receiveId: "Gabc", content: "x", mentionedUserIds: ["U\u0000"] },
      { receiveId: "Gabc", content: "x", clientMsgId: "c\u0000" },
    ]) {
      expect(sendMessageInput.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    // A surrogate pair (an emoji) is fine.
    expect(sendMessageInput.safeParse({ receiveId: "Gabc", content: "ok 😀" }).success).toBe(true);
  });

  it("a send the database refuses fails alone: every other send of its batch commits, in order", async () => {
    const { members, groupId } = await groupWith(t.ctx, 2);
    const [b, c] = [members[0]!, members[1]!];
    // Past the schema (the domain takes validated input): the database refuses the NUL. The first
    // send commits alone; the rest, the culprit among them, queue up meanwhile and share a batch.
    const good = Array.from({ length: 30 }, (_, i) => send(t.ctx, c, groupId, `c${i}`));
    const poisoned = sendMessage(t.ctx, b, { ...sendMessageInput.parse({ receiveId: groupId, content: "ok" }), content: "bad \u0000" });
    good.push(...Array.from({ length: 30 }, (_, i) => send(t.ctx, c, groupId, `c${30 + i}`)));
    await expectAppError(poisoned, "BAD_REQUEST");
    const results = await Promise.all(good);
    expect(results.map((r) => r.message.content)).toEqual(good.map((_, i) => `c${i}`));
    expect(results.map((r) => r.message.seq)).toEqual(good.map((_, i) => i + 1));
    const [conv] = await t.ctx.db.select().from(conversations).where(eq(conversations.id, groupId));
    expect(conv?.lastSeq).toBe(60);
    expect(await t.ctx.db.$count(messages, eq(messages.conversationId, groupId))).toBe(60);
  });
});

describe("what a message row holds", () => {
  it("stores every field the send gave, as the caller and a later read see it; mentions only in groups", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 2);
    const extra = { type: 2, url: "/static/files/a.png", fileType: "image/png", fileName: "a 图.png", fileSize: "12", mentionedUserIds: [members[0]!, members[1]!], mentionAll: true, clientMsgId: "c-1" };
    const { message } = await send(t.ctx, owner, groupId, "看 😀 'quote' \"dq\" \\ back", extra);
    const [row] = await t.ctx.db.select().from(messages).where(eq(messages.uuid, message.uuid));
    expect(row).toMatchObject({ ...extra, content: "看 😀 'quote' \"dq\" \\ back", seq: 1, sendId: owner, receiveId: groupId, id: message.id });
    expect(message).toMatchObject({ ...extra, content: row?.content, createdAt: row?.createdAt });
    const { a, b } = await friendsWithSessions(t.ctx);
    const direct = await send(t.ctx, a, b, "hi", { mentionedUserIds: [b], mentionAll: true });
    expect(direct.message).toMatchObject({ mentionedUserIds: [], mentionAll: false, clientMsgId: null });
  });
});

describe("commits across conversations", () => {
  it("sends to many conversations share transactions; each conversation stays dense and in order, each refusal and failure its own", async () => {
    const groups = [];
    for (let g = 0; g < 12; g++) groups.push(await groupWith(t.ctx, 2));
    const stranger = await newUser(t.ctx);
    const { a, b } = await friendsWithSessions(t.ctx);
    const before = { ...t.ctx.sends.stats };
    // All enqueued in one tick: a handful of transactions carry them all.
    const calls = groups.flatMap(({ owner, members, groupId }) =>
      Array.from({ length: 6 }, (_, i) => ({ groupId, i, p: send(t.ctx, [owner, ...members][i % 3]!, groupId, `${groupId}:${i}`) })),
    );
    // Handlers attached at once: these settle in any order while the others are awaited.
    const refused = groups.slice(0, 4).map(({ groupId }) => rejectionOf(send(t.ctx, stranger, groupId, "no")));
    const poisoned = expectAppError(
      sendMessage(t.ctx, groups[5]!.owner, { ...sendMessageInput.parse({ receiveId: groups[5]!.groupId, content: "ok" }), content: "bad \u0000" }),
      "BAD_REQUEST",
    );
    const direct = send(t.ctx, a, b, "first private message");
    for (const r of refused) expect((await r).message).toBe("非群成员，无法发送消息");
    await poisoned;
    const results = await Promise.all(calls.map((c) => c.p));
    for (const { groupId } of groups) {
      const mine = results.filter((r) => r.message.conversationId === groupId);
      expect(mine.map((r) => r.message.content)).toEqual(Array.from({ length: 6 }, (_, i) => `${groupId}:${i}`));
      expect(mine.map((r) => r.message.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      const [conv] = await t.ctx.db.select().from(conversations).where(eq(conversations.id, groupId));
      expect(conv).toMatchObject({ lastSeq: 6, lastMessage: `${groupId}:5` });
      expect(await t.ctx.db.$count(messages, eq(messages.conversationId, groupId))).toBe(6);
    }
    expect((await direct).message.seq).toBe(1);
    const sends = t.ctx.sends.stats.sends - before.sends;
    const batches = t.ctx.sends.stats.batches - before.batches;
    expect(sends).toBeGreaterThanOrEqual(calls.length + refused.length + 2);
    // Without batching across conversations there would be at least one batch per conversation (14).
    expect(batches).toBeLessThan(groups.length);
  });
});

describe("private group commit", () => {
  it("concurrent sends of both friends: dense seqs, each sender's order kept, idempotent by clientMsgId", async () => {
    const { a, b } = await friendsWithSessions(t.ctx);
    await openSession(t.ctx, b, a);
    const calls = [a, b].flatMap((from) => Array.from({ length: 20 }, (_, i) => ({ from, p: send(t.ctx, from, from === a ? b : a, `${from}:${i}`, { clientMsgId: `c${i}` }) })));
    const retry = send(t.ctx, a, b, "retried", { clientMsgId: "c3" });
    const results = await Promise.all(calls.map((c) => c.p));
    expect(results.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(calls.map((_, i) => i + 1));
    for (const from of [a, b]) {
      const mine = results.filter((r) => r.message.sendId === from);
      expect(mine.map((r) => r.message.content)).toEqual(Array.from({ length: 20 }, (_, i) => `${from}:${i}`));
      // Each message carries its sender's own session id.
      expect(new Set(mine.map((r) => r.message.sessionId))).toEqual(new Set([(await sessionRow(t.ctx, from, from === a ? b : a))?.uuid]));
    }
    const again = await retry;
    expect(again.duplicate).toBe(true);
    expect(again.message.content).toBe(`${a}:3`);
    expect(await t.ctx.db.$count(messages, eq(messages.conversationId, results[0]!.message.conversationId))).toBe(40);
  });

  it("a stored clientMsgId returns the original message even after the sender lost the right to send", async () => {
    const { members, groupId } = await groupWith(t.ctx, 1);
    const first = await send(t.ctx, members[0]!, groupId, "once", { clientMsgId: "k1" });
    await setMemberStatus(t.ctx, members[0]!, groupId, 7);
    const again = await send(t.ctx, members[0]!, groupId, "once", { clientMsgId: "k1" });
    expect(again).toEqual({ message: first.message, duplicate: true });
    await expectAppError(send(t.ctx, members[0]!, groupId, "new", { clientMsgId: "k2" }), "FORBIDDEN", "无权发送消息");
  });
});

describe("private send", () => {
  it("follows the legacy checks: friendship, both sessions, session_id", async () => {
    const { a, b } = await friendsWithSessions(t.ctx);
    const m = await send(t.ctx, a, b, "hi bob");
    const mine = await sessionRow(t.ctx, a, b);
    expect(m.message).toMatchObject({ seq: 1, sessionId: mine?.uuid, receiveId: b, sendId: a });
    expect((await rejectionOf(send(t.ctx, a, a, "me"))).message).toBe("不能给自己发消息");
    expect((await rejectionOf(send(t.ctx, a, b, ""))).message).toBe("消息内容不能为空");
    expect((await rejectionOf(send(t.ctx, a, b, "x", { sessionId: "Swrong000000" }))).message).toBe("session_id 不匹配");
    const stranger = await newUser(t.ctx);
    expect((await rejectionOf(send(t.ctx, stranger, a, "x"))).message).toBe("无权发送消息");
    await t.ctx.db.update(contacts).set({ status: 2 }).where(and(eq(contacts.userId, b), eq(contacts.contactId, a)));
    expect((await rejectionOf(send(t.ctx, b, a, "x"))).message).toBe("已被对方拉黑，无法发送消息");
  });

  it("needs the peer's session too", async () => {
    const a = await newUser(t.ctx);
    const b = await newUser(t.ctx);
    await t.ctx.db.insert(contacts).values([
      { userId: a, contactId: b, contactType: 0 },
      { userId: b, contactId: a, contactType: 0 },
    ]);
    expect((await rejectionOf(send(t.ctx, a, b, "x"))).message).toBe("会话不存在，请先创建会话");
  });
});

describe("history", () => {
  it("pages by cursor and by the legacy page form, oldest first within a page", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    for (let i = 1; i <= 45; i++) await send(t.ctx, i % 2 ? owner : members[0]!, groupId, `n${i}`);
    const latest = await listHistory(t.ctx, members[0]!, historyInput.parse({ peerId: groupId, limit: 20 }));
    expect(latest.items.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 26 + i));
    expect(latest.hasMore).toBe(true);
    const older = await listHistory(t.ctx, members[0]!, historyInput.parse({ peerId: groupId, beforeSeq: 26, limit: 20 }));
    expect(older.items[0]?.seq).toBe(6);
    // `cursor` is beforeSeq under the infinite-query name; null is the newest page.
    const byCursor = await listHistory(t.ctx, members[0]!, historyInput.parse({ peerId: groupId, cursor: 26, limit: 20 }));
    expect(byCursor.items.map((m) => m.seq)).toEqual(older.items.map((m) => m.seq));
    expect(historyInput.parse({ peerId: groupId, cursor: null })).toEqual({ peerId: groupId, limit: 50 });
    expect(historyInput.safeParse({ peerId: groupId, cursor: 3, afterSeq: 1 }).success).toBe(false);
    const oldest = await listHistory(t.ctx, members[0]!, historyInput.parse({ peerId: groupId, beforeSeq: 6, limit: 20 }));
    expect(oldest.items.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(oldest.hasMore).toBe(false);
    const newer = await listHistory(t.ctx, owner, historyInput.parse({ peerId: groupId, afterSeq: 40 }));
    expect(newer.items.map((m) => m.content)).toEqual(["n41", "n42", "n43", "n44", "n45"]);

    const page1 = await listHistoryPage(t.ctx, owner, historyPageInput.parse({ peerId: groupId, page: 1, pageSize: 20 }));
    const page3 = await listHistoryPage(t.ctx, owner, historyPageInput.parse({ peerId: groupId, page: 3, pageSize: 20 }));
    expect(page1.map((m) => m.seq)).toEqual(latest.items.map((m) => m.seq));
    expect(page3.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(await listHistoryPage(t.ctx, owner, historyPageInput.parse({ peerId: groupId, page: 4, pageSize: 20 }))).toEqual([]);
    // Clamps like the legacy server: page <= 0 is 1, size > 200 is 200.
    const clamped = await listHistoryPage(t.ctx, owner, historyPageInput.parse({ peerId: groupId, page: 0, pageSize: 1000 }));
    expect(clamped).toHaveLength(45);
  });

  it("is refused to non-members and to members who left", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    await send(t.ctx, owner, groupId, "secret");
    const stranger = await newUser(t.ctx);
    expect((await rejectionOf(listHistory(t.ctx, stranger, historyInput.parse({ peerId: groupId })))).message).toBe("非群成员，无权查看消息");
    await setMemberStatus(t.ctx, members[0]!, groupId, 6);
    expect((await rejectionOf(listHistory(t.ctx, members[0]!, historyInput.parse({ peerId: groupId })))).message).toBe("非正常群成员状态");
    await setMemberStatus(t.ctx, members[0]!, groupId, 5);
    expect((await listHistory(t.ctx, members[0]!, historyInput.parse({ peerId: groupId }))).items).toHaveLength(1);
  });

  it("private history needs the friendship", async () => {
    const { a, b } = await friendsWithSessions(t.ctx);
    await send(t.ctx, a, b, "one");
    await send(t.ctx, b, a, "two");
    const page = await listHistoryPage(t.ctx, b, historyPageInput.parse({ peerId: a, page: 1, pageSize: 20 }));
    expect(page.map((m) => m.content)).toEqual(["one", "two"]);
    const stranger = await newUser(t.ctx);
    expect((await rejectionOf(listHistory(t.ctx, stranger, historyInput.parse({ peerId: a })))).message).toBe("无权查看聊天记录");
    expect((await rejectionOf(listHistory(t.ctx, a, historyInput.parse({ peerId: a })))).message).toBe("不能查询与自己的私聊记录");
  });
});
