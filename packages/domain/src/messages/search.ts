import { contacts, groups, messages, queryRows, sqlState, type Tx } from "@omnilink/db";
import { and, desc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { activeMembershipOf, friendRow } from "../access.js";
import type { DomainContext } from "../context.js";
import { badRequest } from "../errors.js";
import { isGroupId, privateConversationId } from "../ids.js";
import type { MessageView } from "../realtime/events.js";
import { messageViewColumns } from "../realtime/stream-queries.js";
import { authorizeHistory } from "./history.js";
import type { SearchMessagesInput } from "./schemas.js";

export interface SearchHit {
  message: MessageView;
  /** The group, or the other user of a private chat. */
  peerId: string;
  peerType: "group" | "private";
  /** The text around the first match (at most SNIPPET_BEFORE + the query + SNIPPET_AFTER characters). */
  snippet: string;
}

export interface SearchPage {
  /** Newest first. */
  items: SearchHit[];
  /** Pass as `beforeId` for the next page; null when there is none. */
  nextBeforeId: number | null;
}

/** A search statement that runs longer than this is cancelled and refused (a 400 asking for a narrower query). */
export const SEARCH_STATEMENT_TIMEOUT_MS = 5000;

/** LIKE's wildcards and its escape character, taken literally. */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Full-text search of the messages the caller may read: a case-insensitive substring match
 * (ILIKE, served by the pg_trgm index `message_content_trgm_idx`; trigrams of Chinese text too),
 * newest first, in one conversation or in all of the caller's. Access is history's: one
 * conversation is authorised exactly as its history is (authorizeHistory); across conversations,
 * the groups where the caller is an active member of a normal group and the private chats with
 * their friends. Recalled messages never match (their text is erased, and they are excluded).
 */
export async function searchMessages(ctx: DomainContext, userId: string, input: SearchMessagesInput): Promise<SearchPage> {
  let scope: string[];
  if (input.peerId !== undefined) {
    scope = [await authorizeHistory(ctx, userId, input.peerId)];
  } else {
    const [memberships, friends] = await Promise.all([
      ctx.db
        .select({ groupId: contacts.contactId })
        .from(contacts)
        .innerJoin(groups, eq(groups.uuid, contacts.contactId))
        .where(activeMembershipOf(userId)),
      ctx.db
        .select({ peerId: contacts.contactId })
        .from(contacts)
        .where(and(eq(contacts.userId, userId), friendRow())),
    ]);
    scope = [...memberships.map((m) => m.groupId), ...friends.map((f) => privateConversationId(userId, f.peerId))];
  }
  if (scope.length === 0) return { items: [], nextBeforeId: null };
  const pattern = `%${escapeLike(input.query)}%`;
  const matches = and(sql`${messages.content} ilike ${pattern} escape '\\'`, isNull(messages.recalledAt));
  let rows: MessageView[];
  try {
    rows = await ctx.db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local statement_timeout = ${SEARCH_STATEMENT_TIMEOUT_MS}`));
      // The planner underestimates how many rows ILIKE keeps and would rather read the whole
      // table than a conversation's index; a search never should.
      await tx.execute(sql`set local enable_seqscan = off`);
      if (scope.length === 1) {
        // One conversation: newest first by seq, so the planner has the conversation's own index
        // (conversation_id, seq) to walk backwards, besides the trigram index for rare words.
        const conversationId = scope[0] ?? "";
        const before = input.beforeId === undefined ? undefined : await seqOf(tx, conversationId, input.beforeId);
        return tx
          .select(messageViewColumns)
          .from(messages)
          .where(and(eq(messages.conversationId, conversationId), matches, before !== undefined ? lt(messages.seq, before) : undefined))
          .orderBy(desc(messages.seq))
          .limit(input.limit + 1);
      }
      const older = input.beforeId !== undefined ? lt(messages.id, input.beforeId) : undefined;
      if (hasTrigram(input.query)) {
        // All conversations, a word the trigram index can serve: one scan of the index's matches.
        return tx
          .select(messageViewColumns)
          .from(messages)
          .where(and(sql`${messages.conversationId} in (select jsonb_array_elements_text(${JSON.stringify(scope)}::jsonb))`, matches, older))
          .orderBy(desc(messages.id))
          .limit(input.limit + 1);
      }
      // All conversations, a query too short for trigrams (one or two characters, common in
      // Chinese): each conversation is walked newest first on its own index up to the page size,
      // so the cost is bounded by the caller's conversations, never the whole table.
      const perConversation = tx
        .select(messageViewColumns)
        .from(messages)
        .where(and(sql`${messages.conversationId} = c.id`, matches, older))
        .orderBy(desc(messages.seq))
        .limit(input.limit + 1)
        .as("m");
      const picked = await queryRows<{ id: string | number }>(
        tx,
        sql`select m.id from jsonb_array_elements_text(${JSON.stringify(scope)}::jsonb) as c(id)
            cross join lateral ${perConversation}
            order by m.id desc limit ${input.limit + 1}`,
      );
      if (picked.length === 0) return [];
      return tx
        .select(messageViewColumns)
        .from(messages)
        .where(inArray(messages.id, picked.map((r) => Number(r.id))))
        .orderBy(desc(messages.id));
    });
  } catch (error) {
    // 57014: query_canceled (the statement timeout).
    if (sqlState(error) === "57014") throw badRequest("搜索耗时过长，请换一个更具体的关键词");
    throw error;
  }
  const page = rows.slice(0, input.limit);
  return {
    items: page.map((message) => ({
      message,
      peerId: peerOf(message, userId),
      peerType: isGroupId(message.conversationId) ? "group" : "private",
      snippet: snippetOf(message.content, input.query),
    })),
    nextBeforeId: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
  };
}

/** The seq of a message of this conversation given by its stream id (the cursor); 0 when it is not one of them. */
async function seqOf(tx: Tx, conversationId: string, id: number): Promise<number> {
  const [row] = await tx
    .select({ seq: messages.seq })
    .from(messages)
    .where(and(eq(messages.id, id), eq(messages.conversationId, conversationId)));
  return row?.seq ?? 0;
}

/**
 * Whether pg_trgm can take trigrams from the pattern: it needs three word characters in a row
 * (letters or digits, Chinese characters included); shorter queries would read the whole index.
 */
const hasTrigram = (query: string): boolean => /[\p{L}\p{N}]{3,}/u.test(query);

function peerOf(m: MessageView, userId: string): string {
  if (isGroupId(m.conversationId)) return m.conversationId;
  const [a = "", b = ""] = m.conversationId.split(":");
  return a === userId ? b : a;
}

const SNIPPET_BEFORE = 20;
const SNIPPET_AFTER = 60;

/** The text around the first case-insensitive occurrence of `query`, with … where it was cut. */
export function snippetOf(content: string, query: string): string {
  const chars = [...content];
  const needle = [...query.toLocaleLowerCase()];
  const lower = chars.map((c) => c.toLocaleLowerCase());
  let at = -1;
  outer: for (let i = 0; i + needle.length <= lower.length; i++) {
    for (let k = 0; k < needle.length; k++) if (lower[i + k] !== needle[k]) continue outer;
    at = i;
    break;
  }
  if (at < 0) at = 0;
  const start = Math.max(0, at - SNIPPET_BEFORE);
  const end = Math.min(chars.length, at + needle.length + SNIPPET_AFTER);
  return `${start > 0 ? "…" : ""}${chars.slice(start, end).join("")}${end < chars.length ? "…" : ""}`;
}
