import type { BenchGroup, BenchUser, RunContext } from "./context.js";
import { legacyPost, mutate, query } from "./http.js";
import { nowMs, percentile, pool, round } from "./stats.js";

export interface LatencyFigure {
  p50: number;
  p99: number;
  samples: number;
}

/** `warmup` unmeasured calls, then `requests` sequential ones, each timed end to end. */
async function latency(requests: number, warmup: number, call: () => Promise<void>): Promise<LatencyFigure & { startedAtMs: number; endedAtMs: number }> {
  for (let i = 0; i < warmup; i++) await call();
  const samples: number[] = [];
  const startedAtMs = nowMs();
  for (let i = 0; i < requests; i++) {
    const t0 = nowMs();
    await call();
    samples.push(nowMs() - t0);
  }
  return { p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)), samples: samples.length, startedAtMs, endedAtMs: nowMs() };
}

interface HistoryItem {
  seq: number;
}

export type HistoryCase = "newest" | "cursor" | "page" | "legacy_page";

/** The history cases over HTTP, each checked for the rows it must return. */
function historyCall(ctx: RunContext, url: string, group: BenchGroup, which: HistoryCase): () => Promise<void> {
  const { messages: total, depth, pageSize } = ctx.config.history;
  const reader = group.members[0]!;
  const expectFirst = (items: Array<{ seq: number }>, first: number) => {
    if (items.length !== pageSize || items[0]?.seq !== first) {
      throw new Error(`history ${which}: expected ${pageSize} items from seq ${first}, got ${items.length} from ${items[0]?.seq}`);
    }
  };
  const page = Math.floor(depth / pageSize) + 1;
  switch (which) {
    case "newest":
      return async () => {
        const r = await query<{ items: HistoryItem[] }>(url, "messages.history", { peerId: group.id, limit: pageSize }, reader.token);
        expectFirst(r.items, total - pageSize + 1);
      };
    case "cursor":
      return async () => {
        const r = await query<{ items: HistoryItem[] }>(url, "messages.history", { peerId: group.id, beforeSeq: total - depth + 1, limit: pageSize }, reader.token);
        expectFirst(r.items, total - depth - pageSize + 1);
      };
    case "page":
      return async () => {
        const items = await query<HistoryItem[]>(url, "messages.historyPage", { peerId: group.id, page, pageSize }, reader.token);
        expectFirst(items, total - depth - pageSize + 1);
      };
    case "legacy_page":
      return async () => {
        const items = await legacyPost<Array<{ seq?: number; uuid: string }>>(url, "/message/getGroupMessageList", { group_id: group.id, page, page_size: pageSize }, reader.token);
        if (items.length !== pageSize) throw new Error(`legacy history: expected ${pageSize} items, got ${items.length}`);
      };
  }
}

export function historyCaseName(ctx: RunContext, which: HistoryCase): string {
  const d = ctx.config.history.depth;
  switch (which) {
    case "newest":
      return "newest page (messages.history)";
    case "cursor":
      return `${d.toLocaleString("en")} deep by cursor (messages.history beforeSeq)`;
    case "page":
      return `${d.toLocaleString("en")} deep by page/page_size (messages.historyPage)`;
    case "legacy_page":
      return `${d.toLocaleString("en")} deep by page/page_size (POST /message/getGroupMessageList)`;
  }
}

export async function measureHistory(ctx: RunContext, url: string, group: BenchGroup, which: HistoryCase) {
  const { requests, warmup } = ctx.config.history;
  return latency(requests, warmup, historyCall(ctx, url, group, which));
}

export type SearchCase = "one_rare" | "one_common" | "all_rare";

interface SearchPageResult {
  items: Array<{ peerId: string; message: { seq: number; content: string } }>;
}

/**
 * messages.search over the history group's bulk-loaded messages ("history message number N"): a
 * rare word (the digits of one message, about one match: the trigram index), a common one (every
 * message matches: the newest page, walking the conversation's index), in the group and across all
 * of the reader's conversations. Each call checks what it must return.
 */
function searchCall(ctx: RunContext, url: string, group: BenchGroup, which: SearchCase): () => Promise<void> {
  const { messages: total, depth, pageSize } = ctx.config.history;
  const reader = group.members[0]!;
  const rareSeq = total - depth;
  const rare = String(rareSeq);
  const check = (r: SearchPageResult, expectFirstSeq: number, expectCount: number | "some") => {
    const first = r.items[0];
    const countOk = expectCount === "some" ? r.items.length >= 1 : r.items.length === expectCount;
    if (!countOk || first?.message.seq !== expectFirstSeq || first.peerId !== group.id) {
      throw new Error(`search ${which}: expected ${expectCount} items from seq ${expectFirstSeq} in ${group.id}, got ${r.items.length} from ${first?.message.seq} in ${first?.peerId}`);
    }
  };
  switch (which) {
    case "one_rare":
      return async () => check(await query<SearchPageResult>(url, "messages.search", { peerId: group.id, query: rare, limit: 20 }, reader.token), rareSeq, "some");
    case "one_common":
      return async () =>
        check(await query<SearchPageResult>(url, "messages.search", { peerId: group.id, query: "History Message", limit: pageSize }, reader.token), total, pageSize);
    case "all_rare":
      return async () => check(await query<SearchPageResult>(url, "messages.search", { query: rare, limit: 20 }, reader.token), rareSeq, "some");
  }
}

export function searchCaseName(ctx: RunContext, which: SearchCase): string {
  const n = ctx.config.history.messages.toLocaleString("en");
  switch (which) {
    case "one_rare":
      return `search in the ${n}-message group, a rare word (messages.search peerId)`;
    case "one_common":
      return `search in the ${n}-message group, a word every message has: newest ${ctx.config.history.pageSize} (messages.search peerId)`;
    case "all_rare":
      return `search across all the reader's conversations, a rare word (messages.search)`;
  }
}

export async function measureSearch(ctx: RunContext, url: string, group: BenchGroup, which: SearchCase) {
  const { requests, warmup } = ctx.config.history;
  return latency(requests, warmup, searchCall(ctx, url, group, which));
}

/** The partner sends one message into each of the viewer's groups, so every session has an unread count. */
export async function prepareSessions(url: string, partner: BenchUser, groups: BenchGroup[]): Promise<void> {
  await pool(groups.length, 16, async (i) => {
    await mutate(url, "messages.send", { receiveId: groups[i]!.id, content: `unread ${i}` }, partner.token);
  });
}

export async function measureSessions(ctx: RunContext, url: string, viewer: BenchUser) {
  const { requests, warmup, groups } = ctx.config.sessions;
  return latency(requests, warmup, async () => {
    const list = await query<Array<{ unreadCount: number; peerType: string }>>(url, "sessions.list", { kind: "all" }, viewer.token);
    const unread = list.filter((s) => s.peerType === "G" && s.unreadCount > 0).length;
    if (unread < groups) throw new Error(`sessions.list: ${unread} group sessions with unread messages, expected ${groups}`);
  });
}
