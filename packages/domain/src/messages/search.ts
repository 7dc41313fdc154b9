import { contacts, groups, messages, sqlState } from "@omnilink/db";
import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
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
  const inScope =
    scope.length === 1
      ? eq(messages.conversationId, scope[0] ?? "")
      : sql`${messages.conversationId} in (select jsonb_array_elements_text(${JSON.stringify(scope)}::jsonb))`;
  let rows: MessageView[];
  try {
    rows = await ctx.db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local statement_timeout = ${SEARCH_STATEMENT_TIMEOUT_MS}`));
      return tx
        .select(messageViewColumns)
        .from(messages)
        .where(
          and(
            inScope,
            sql`${messages.content} ilike ${pattern} escape '\\'`,
            isNull(messages.recalledAt),
            input.beforeId !== undefined ? lt(messages.id, input.beforeId) : undefined,
          ),
        )
        .orderBy(desc(messages.id))
        .limit(input.limit + 1);
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
