import { conversations, messages, queryRows } from "@omnilink/db";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { deleteFriend } from "../src/contacts/friends.js";
import type { DomainContext } from "../src/context.js";
import { dismissGroup, leaveGroup, removeMembers } from "../src/groups/index.js";
import { recallMessage } from "../src/messages/recall.js";
import { MAX_SEARCH_LIMIT, MAX_SEARCH_QUERY, searchMessagesInput } from "../src/messages/schemas.js";
import { escapeLike, searchMessages, snippetOf } from "../src/messages/search.js";
import { friendsWithSessions, groupWith, send } from "./fixtures.js";
import { expectAppError, useTestContext } from "./helpers.js";

const t = useTestContext({ groupSendBurst: 10_000, groupSendPerSecond: 10_000, groupSendMemberShare: 1 });

const search = (ctx: DomainContext, userId: string, input: Record<string, unknown>) => searchMessages(ctx, userId, searchMessagesInput.parse(input));
const texts = (page: Awaited<ReturnType<typeof searchMessages>>) => page.items.map((h) => h.message.content);

describe("message search", () => {
  it("pg_trgm makes trigrams of Chinese text on this database, and the index is there", async () => {
    const [row] = await queryRows<{ t: string[] }>(t.ctx.db, sql`select show_trgm('你好世界') as t`);
    // Chinese characters count as word characters under the databases' ctype: 5 trigrams of the one word.
    expect(row?.t.length).toBe(5);
    const [index] = await queryRows<{ def: string }>(
      t.ctx.db,
      sql`select indexdef as def from pg_indexes where indexname = 'message_content_trgm_idx'`,
    );
    expect(index?.def).toMatch(/USING gin \(content gin_trgm_ops\)/);
  });

  it("finds Chinese and English substrings case-insensitively, newest first, with the peer, seq and a snippet", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    const { a, b } = await friendsWithSessions(t.ctx);
    const me = members[0]!;
    await send(t.ctx, owner, groupId, "今天下午三点开会讨论项目进度");
    await send(t.ctx, me, groupId, "The Quarterly REPORT is ready");
    await send(t.ctx, owner, groupId, "nothing to see");
    await send(t.ctx, owner, groupId, "明天的会议改到上午");

    const cn = await search(t.ctx, me, { query: "会" });
    expect(texts(cn)).toEqual(["明天的会议改到上午", "今天下午三点开会讨论项目进度"]);
    expect(cn.items[0]).toMatchObject({ peerId: groupId, peerType: "group", message: { seq: 4, conversationId: groupId } });
    expect(texts(await search(t.ctx, me, { query: "项目进度" }))).toEqual(["今天下午三点开会讨论项目进度"]);
    expect(texts(await search(t.ctx, me, { query: "quarterly report", peerId: groupId }))).toEqual(["The Quarterly REPORT is ready"]);
    expect(texts(await search(t.ctx, me, { query: "  REPORT  " }))).toEqual(["The Quarterly REPORT is ready"]);
    expect((await search(t.ctx, me, { query: "不存在的词" })).items).toEqual([]);

    // Private: the peer is the other user, for both of them.
    await send(t.ctx, a, b, "Lunch at noon? 午饭");
    expect((await search(t.ctx, a, { query: "午饭" })).items.map((h) => [h.peerId, h.peerType, h.message.seq])).toEqual([[b, "private", 1]]);
    expect((await search(t.ctx, b, { query: "LUNCH", peerId: a })).items.map((h) => h.peerId)).toEqual([a]);
    // Across conversations, only the caller's.
    expect((await search(t.ctx, a, { query: "会" })).items).toEqual([]);
  });

  it("takes %, _ and \\ literally", async () => {
    const { owner, groupId } = await groupWith(t.ctx, 0);
    for (const text of ["100% sure", "1000 sure", "a_b", "axb", "back\\slash", "backslash"]) await send(t.ctx, owner, groupId, text);
    expect(texts(await search(t.ctx, owner, { query: "100%", peerId: groupId }))).toEqual(["100% sure"]);
    expect(texts(await search(t.ctx, owner, { query: "a_b", peerId: groupId }))).toEqual(["a_b"]);
    expect(texts(await search(t.ctx, owner, { query: "k\\s", peerId: groupId }))).toEqual(["back\\slash"]);
    expect(texts(await search(t.ctx, owner, { query: "%", peerId: groupId }))).toEqual(["100% sure"]);
    expect(escapeLike("a%b_c\\d")).toBe("a\\%b\\_c\\\\d");
  });

  it("short queries across conversations merge each conversation's newest matches", async () => {
    const g1 = await groupWith(t.ctx, 1);
    const me = g1.members[0]!;
    const g2 = await groupWith(t.ctx, 0);
    const { createGroup } = await import("../src/groups/index.js");
    const third = await createGroup(t.ctx, g2.owner, { name: "third", memberIds: [me] });
    await send(t.ctx, g1.owner, g1.groupId, "好的 1");
    await send(t.ctx, g2.owner, third.uuid, "好的 2");
    await send(t.ctx, me, g1.groupId, "不用");
    await send(t.ctx, g2.owner, third.uuid, "好的 3");
    await send(t.ctx, g2.owner, g2.groupId, "好的 not mine");
    const page = await search(t.ctx, me, { query: "好的", limit: 2 });
    expect(texts(page)).toEqual(["好的 3", "好的 2"]);
    expect(texts(await search(t.ctx, me, { query: "好的", limit: 2, beforeId: page.nextBeforeId }))).toEqual(["好的 1"]);
  });

  it("pages newest first with beforeId and a bounded limit", async () => {
    const { owner, groupId } = await groupWith(t.ctx, 0);
    for (let i = 1; i <= 7; i++) await send(t.ctx, owner, groupId, `page item ${i}`);
    const first = await search(t.ctx, owner, { query: "page item", peerId: groupId, limit: 3 });
    expect(texts(first)).toEqual(["page item 7", "page item 6", "page item 5"]);
    expect(first.nextBeforeId).toBe(first.items[2]?.message.id);
    const second = await search(t.ctx, owner, { query: "page item", peerId: groupId, limit: 3, beforeId: first.nextBeforeId });
    expect(texts(second)).toEqual(["page item 4", "page item 3", "page item 2"]);
    const third = await search(t.ctx, owner, { query: "page item", peerId: groupId, limit: 3, beforeId: second.nextBeforeId });
    expect(texts(third)).toEqual(["page item 1"]);
    expect(third.nextBeforeId).toBeNull();
    // Across conversations too.
    const across = await search(t.ctx, owner, { query: "page item", limit: 4 });
    expect(texts(across)).toEqual(["page item 7", "page item 6", "page item 5", "page item 4"]);
    expect(texts(await search(t.ctx, owner, { query: "page item", limit: 4, beforeId: across.nextBeforeId }))).toEqual([
      "page item 3",
      "page item 2",
      "page item 1",
    ]);
  });

  it("bounds its input: query length, limit, ids", () => {
    expect(searchMessagesInput.safeParse({ query: "x".repeat(MAX_SEARCH_QUERY) }).success).toBe(true);
    expect(searchMessagesInput.safeParse({ query: "x".repeat(MAX_SEARCH_QUERY + 1) }).success).toBe(false);
    expect(searchMessagesInput.safeParse({ query: "   " }).success).toBe(false);
    expect(searchMessagesInput.safeParse({ query: "a\u0000" }).success).toBe(false);
    expect(searchMessagesInput.safeParse({ query: "a", limit: MAX_SEARCH_LIMIT + 1 }).success).toBe(false);
    expect(searchMessagesInput.safeParse({ query: "a", limit: 0 }).success).toBe(false);
    expect(searchMessagesInput.safeParse({ query: "a", beforeId: -1 }).success).toBe(false);
    expect(searchMessagesInput.safeParse({ query: "a", peerId: "x".repeat(21) }).success).toBe(false);
  });

  it("cuts a snippet around the first match", () => {
    const long = `${"前".repeat(50)}关键词${"后".repeat(100)}`;
    const snippet = snippetOf(long, "关键词");
    expect(snippet).toBe(`…${"前".repeat(20)}关键词${"后".repeat(60)}…`);
    expect(snippetOf("Hello World", "WORLD")).toBe("Hello World");
  });
});

describe("search honours access exactly as history does", () => {
  it("a group's messages only while an active member of a normal group", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 3);
    const [leaver = "", kicked = "", stays = ""] = members;
    await send(t.ctx, owner, groupId, "needle one");
    const stranger = (await groupWith(t.ctx, 0)).owner;
    await expectAppError(search(t.ctx, stranger, { query: "needle", peerId: groupId }), "FORBIDDEN", "非群成员，无权查看消息");
    expect((await search(t.ctx, stranger, { query: "needle one" })).items).toEqual([]);

    await leaveGroup(t.ctx, leaver, groupId);
    await removeMembers(t.ctx, owner, { groupId, memberIds: [kicked] });
    for (const gone of [leaver, kicked]) {
      await expectAppError(search(t.ctx, gone, { query: "needle", peerId: groupId }), "FORBIDDEN", "非正常群成员状态");
      expect((await search(t.ctx, gone, { query: "needle one" })).items).toEqual([]);
    }
    expect(texts(await search(t.ctx, stays, { query: "needle one" }))).toEqual(["needle one"]);

    await dismissGroup(t.ctx, owner, groupId);
    for (const who of [owner, stays]) {
      await expectAppError(search(t.ctx, who, { query: "needle", peerId: groupId }), "FORBIDDEN");
      expect((await search(t.ctx, who, { query: "needle one" })).items).toEqual([]);
    }
  });

  it("a private chat only while friends", async () => {
    const { a, b } = await friendsWithSessions(t.ctx);
    await send(t.ctx, a, b, "private needle");
    expect(texts(await search(t.ctx, b, { query: "private needle" }))).toEqual(["private needle"]);
    await deleteFriend(t.ctx, a, { friendId: b });
    for (const [me, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      await expectAppError(search(t.ctx, me, { query: "needle", peerId: peer }), "FORBIDDEN");
      expect((await search(t.ctx, me, { query: "private needle" })).items).toEqual([]);
    }
    await expectAppError(search(t.ctx, a, { query: "x", peerId: a }), "BAD_REQUEST", "不能查询与自己的私聊记录");
  });

  it("recalled messages never match", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    const { message } = await send(t.ctx, members[0]!, groupId, "regret this haystack");
    await send(t.ctx, owner, groupId, "keep this haystack");
    await recallMessage(t.ctx, members[0]!, { messageId: message.uuid });
    expect(texts(await search(t.ctx, owner, { query: "haystack", peerId: groupId }))).toEqual(["keep this haystack"]);
    expect((await search(t.ctx, owner, { query: "regret" })).items).toEqual([]);
  });
});

describe("search cost", () => {
  it("one conversation's search on a large conversation reads an index, not the table", async () => {
    const { owner, groupId } = await groupWith(t.ctx, 0);
    const other = await groupWith(t.ctx, 0);
    // 20,000 messages in the group and 20,000 elsewhere, written directly (the send path is tested elsewhere).
    for (const [cid, sender, n] of [
      [groupId, owner, 20_000],
      [other.groupId, other.owner, 20_000],
    ] as const) {
      await t.ctx.db.execute(sql`
        insert into ${messages} (uuid, conversation_id, seq, send_id, receive_id, content)
        select 'M' || substr(md5(${cid} || g::text), 1, 11), ${cid}, g, ${sender}, ${cid},
               case when g % 1000 = 0 then '季度报告 quarterly report ' || g else '普通消息 ordinary chatter number ' || g end
        from generate_series(1, ${n}) as g`);
      await t.ctx.db.update(conversations).set({ lastSeq: n }).where(eq(conversations.id, cid));
    }
    await t.ctx.db.execute(sql`analyze ${messages}`);
    const page = await search(t.ctx, owner, { query: "季度报告", peerId: groupId, limit: 5 });
    expect(page.items.map((h) => h.message.seq)).toEqual([20_000, 19_000, 18_000, 17_000, 16_000]);

    // The statements searchMessages runs for one conversation, as the planner sees them in its transaction.
    for (const [query, index] of [
      ["%季度报告%", /message_content_trgm_idx|message_conversation_seq_key/],
      ["%普通消息%", /message_conversation_seq_key/],
      // Too short for trigrams: the conversation's rows, through one of the indexes that lead to them.
      ["%会%", /Index (Scan|Cond).*conversation_id|Index Cond: \(\(conversation_id\)/s],
    ] as const) {
      const text = await t.ctx.db.transaction(async (tx) => {
        await tx.execute(sql`set local enable_seqscan = off`);
        const plan = await queryRows<{ "QUERY PLAN": string }>(
          tx,
          sql`explain select id from ${messages}
              where conversation_id = ${groupId} and content ilike ${query} escape '\\' and recalled_at is null
              order by seq desc limit 21`,
        );
        return plan.map((r) => r["QUERY PLAN"]).join("\n");
      });
      if (process.env.PRINT_PLAN) console.log(`${query}\n${text}`);
      expect(text, query).not.toMatch(/Seq Scan on message/);
      expect(text, query).toMatch(index);
    }
    expect(texts(await search(t.ctx, owner, { query: "会", peerId: groupId }))).toEqual([]);
    expect((await search(t.ctx, owner, { query: "普通", limit: 2 })).items.map((h) => h.message.seq)).toEqual([19_999, 19_998]);
  });
});
