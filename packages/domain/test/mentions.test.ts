import { messages, queryRows } from "@omnilink/db";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { inviteMembers } from "../src/groups/invite.js";
import { sessionListQuery, listSessions, MAX_MENTION_COUNT } from "../src/sessions/list.js";
import { markSessionRead } from "../src/sessions/read.js";
import { friendsWithSessions, groupWith, send } from "./fixtures.js";
import { expectAppError, newUser, useTestContext } from "./helpers.js";

const t = useTestContext({ groupSendBurst: 5000, groupSendPerSecond: 5000, groupSendMemberShare: 1 });

const mentionsOf = async (userId: string, peerId: string) => (await listSessions(t.ctx, userId)).find((s) => s.peerId === peerId)?.mentionCount;

async function stored(uuid: string) {
  const [row] = await t.ctx.db.select({ ids: messages.mentionedUserIds, all: messages.mentionAll }).from(messages).where(eq(messages.uuid, uuid));
  return row;
}

describe("mentions", () => {
  it("are stored once each, never the sender's own id; non-members are kept as given", async () => {
    const { members, groupId } = await groupWith(t.ctx, 2);
    const [m1, m2] = members as [string, string];
    const outsider = await newUser(t.ctx, "outsider");
    const { message } = await send(t.ctx, m1, groupId, "hi", { mentionedUserIds: [m2, m1, m2, outsider, m2] });
    expect(message.mentionedUserIds).toEqual([m2, outsider]);
    expect(await stored(message.uuid)).toEqual({ ids: [m2, outsider], all: false });
    // Only oneself: nothing is stored, so the message is not in the mention index.
    const { message: self } = await send(t.ctx, m1, groupId, "me", { mentionedUserIds: [m1] });
    expect(await stored(self.uuid)).toEqual({ ids: [], all: false });
  });

  it("private messages never carry mentions", async () => {
    const { a, b } = await friendsWithSessions(t.ctx);
    const { message } = await send(t.ctx, a, b, "psst", { mentionedUserIds: [b] });
    expect(await stored(message.uuid)).toEqual({ ids: [], all: false });
    expect((await listSessions(t.ctx, b)).find((s) => s.peerId === a)?.mentionCount).toBe(0);
  });

  it("count the viewer's unread mentions: by id and @all, not their own, not once read, not recalled", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 3);
    const [m1, m2, m3] = members as [string, string, string];
    await send(t.ctx, owner, groupId, "@all", { mentionAll: true });
    await send(t.ctx, owner, groupId, "plain");
    await send(t.ctx, m1, groupId, "@m2 @owner", { mentionedUserIds: [m2, owner] });
    expect(await mentionsOf(m2, groupId)).toBe(2);
    expect(await mentionsOf(m3, groupId)).toBe(1);
    // m1 sent after the @all, which marks what came before as read.
    expect(await mentionsOf(m1, groupId)).toBe(0);
    // The owner's own @all does not count; m1's mention of the owner does.
    expect(await mentionsOf(owner, groupId)).toBe(1);
    // m2 reads up to the @all (seq 1): one left.
    await markSessionRead(t.ctx, m2, { peerId: groupId, seq: 1 });
    expect(await mentionsOf(m2, groupId)).toBe(1);
    // A recalled message does not count.
    const { message } = await send(t.ctx, owner, groupId, "@m3", { mentionedUserIds: [m3] });
    expect(await mentionsOf(m3, groupId)).toBe(2);
    await t.ctx.db.update(messages).set({ recalledAt: new Date(), recalledBy: owner }).where(eq(messages.uuid, message.uuid));
    expect(await mentionsOf(m3, groupId)).toBe(1);
    await markSessionRead(t.ctx, m3, { peerId: groupId });
    expect(await mentionsOf(m3, groupId)).toBe(0);
  });

  it("a mentioned outsider who joins later does not count what was said before", async () => {
    const { owner, groupId } = await groupWith(t.ctx, 1);
    const outsider = await newUser(t.ctx, "later");
    await send(t.ctx, owner, groupId, "@later", { mentionedUserIds: [outsider] });
    expect(await mentionsOf(outsider, groupId)).toBeUndefined();
    await inviteMembers(t.ctx, owner, { groupId, memberIds: [outsider] });
    expect(await mentionsOf(outsider, groupId)).toBe(0);
    await send(t.ctx, owner, groupId, "@later again", { mentionedUserIds: [outsider] });
    expect(await mentionsOf(outsider, groupId)).toBe(1);
  });

  it("@all needs the owner or an admin", async () => {
    const { members, groupId } = await groupWith(t.ctx, 1);
    await expectAppError(send(t.ctx, members[0] as string, groupId, "@all", { mentionAll: true }), "FORBIDDEN", "只有群主和管理员可以@所有人");
  });

  it("the count is bounded", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    const [m1] = members as [string];
    await Promise.all(Array.from({ length: MAX_MENTION_COUNT + 5 }, (_, i) => send(t.ctx, owner, groupId, `@${i}`, { mentionedUserIds: [m1] })));
    expect(await mentionsOf(m1, groupId)).toBe(MAX_MENTION_COUNT);
  });

  it("the session list reads only mentioning messages after the read position (EXPLAIN)", async () => {
    const { owner, members, groupId } = await groupWith(t.ctx, 1);
    const [m1] = members as [string];
    // 400 plain messages, read; then 200 plain and 3 mentioning ones, unread.
    for (let i = 0; i < 400; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => send(t.ctx, owner, groupId, `old ${i + k}`)));
    await markSessionRead(t.ctx, m1, { peerId: groupId });
    for (let i = 0; i < 200; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => send(t.ctx, owner, groupId, `new ${i + k}`)));
    for (let i = 0; i < 3; i++) await send(t.ctx, owner, groupId, `@m1 ${i}`, { mentionedUserIds: [m1] });
    await t.ctx.db.execute(sql`analyze`);
    const [plan] = await queryRows<{ "QUERY PLAN": unknown }>(t.ctx.db, sql`explain (analyze, format json) ${sessionListQuery(t.ctx, m1)}`);
    const root = (typeof plan?.["QUERY PLAN"] === "string" ? JSON.parse(plan["QUERY PLAN"]) : plan?.["QUERY PLAN"]) as Array<{ Plan: PlanNode }>;
    const scans = nodes(root[0]?.Plan).filter((n) => n["Relation Name"] === "message");
    // An index scan names its index; a bitmap heap scan's index is in its child bitmap index scan(s).
    const indexes = (n: PlanNode) => nodes(n).flatMap((c) => (c["Index Name"] ? [c["Index Name"]] : []));
    console.log(`session list plan over message: ${JSON.stringify(scans.map((n) => ({ node: n["Node Type"], indexes: indexes(n), rows: n["Actual Rows"], loops: n["Actual Loops"], removed: n["Rows Removed by Filter"] ?? 0 })))}`);
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) {
      expect(scan["Node Type"]).not.toBe("Seq Scan");
      expect(indexes(scan)).toEqual(["message_mention_idx"]);
      // Only the 3 unread mentioning rows are visited; none of the 600 plain ones.
      expect((scan["Actual Rows"] ?? 0) + (scan["Rows Removed by Filter"] ?? 0)).toBeLessThanOrEqual(3);
    }
    expect(await mentionsOf(m1, groupId)).toBe(3);
  });
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Rows Removed by Filter"?: number;
  Plans?: PlanNode[];
}

function nodes(node: PlanNode | undefined): PlanNode[] {
  if (!node) return [];
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}
