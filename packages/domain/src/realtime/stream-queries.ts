import { messages, sessions, streamEvents, streamTicks, contacts, groups, queryRows, type Queryable } from "@omnilink/db";
import { and, arrayContains, asc, eq, inArray, like, lte, max, not, or, sql } from "drizzle-orm";
import { activeMembershipOf } from "../access.js";
import { parseStreamEvent, type MessageView, type RawStreamEvent, type StreamEventView, type StreamItem } from "./events.js";
import { endOfTick, positionOf, tickOf, type TickInfo } from "./positions.js";

export const messageViewColumns = {
  id: messages.id,
  uuid: messages.uuid,
  conversationId: messages.conversationId,
  seq: messages.seq,
  sessionId: messages.sessionId,
  type: messages.type,
  content: messages.content,
  url: messages.url,
  sendId: messages.sendId,
  sendName: messages.sendName,
  sendAvatar: messages.sendAvatar,
  receiveId: messages.receiveId,
  fileType: messages.fileType,
  fileName: messages.fileName,
  fileSize: messages.fileSize,
  mentionedUserIds: messages.mentionedUserIds,
  mentionAll: messages.mentionAll,
  clientMsgId: messages.clientMsgId,
  createdAt: messages.createdAt,
  recalledAt: messages.recalledAt,
  recalledBy: messages.recalledBy,
};

const eventViewColumns = {
  id: streamEvents.id,
  type: streamEvents.type,
  groupId: streamEvents.groupId,
  userIds: streamEvents.userIds,
  payload: streamEvents.payload,
  createdAt: streamEvents.createdAt,
};

/** The newest tick written. */
export async function latestTick(db: Queryable): Promise<number> {
  const [row] = await db.select({ tick: max(streamTicks.tick) }).from(streamTicks);
  return Number(row?.tick ?? 0);
}

/** Ticks after `after` (exclusive), up to `upTo` (inclusive), in order, at most `limit`. */
export async function loadTicks(db: Queryable, after: number, upTo: number, limit: number): Promise<TickInfo[]> {
  const rows = await db
    .select({ tick: streamTicks.tick, itemIds: streamTicks.itemIds })
    .from(streamTicks)
    .where(and(sql`${streamTicks.tick} > ${after}`, lte(streamTicks.tick, upTo)))
    .orderBy(asc(streamTicks.tick))
    .limit(limit);
  return rows.map((r) => ({ tick: Number(r.tick), itemIds: r.itemIds.map(Number) }));
}

/** The groups a user is an active member of (normal groups only), at most `limit`. */
export async function activeGroupIds(db: Queryable, userId: string, limit?: number): Promise<string[]> {
  const query = db
    .select({ groupId: contacts.contactId })
    .from(contacts)
    .innerJoin(groups, eq(groups.uuid, contacts.contactId))
    .where(activeMembershipOf(userId));
  const rows = limit === undefined ? await query : await query.orderBy(contacts.id).limit(limit);
  return rows.map((m) => m.groupId);
}

/** Who a user hears from: their active groups and the conversations of their private sessions. */
export async function loadAudience(db: Queryable, userId: string): Promise<{ groupIds: string[]; privateConversationIds: string[] }> {
  const groupIds = await activeGroupIds(db, userId);
  const privates = await db
    .select({ conversationId: sessions.conversationId })
    .from(sessions)
    .where(and(eq(sessions.sendId, userId), not(like(sessions.receiveId, "G%"))));
  return { groupIds, privateConversationIds: privates.map((p) => p.conversationId) };
}

export interface Audience {
  userId: string;
  groupIds: string[];
  privateConversationIds: string[];
}

/**
 * The rows with these ids, as unordered stream items (pos 0). With an audience, only what that
 * user should hear: messages of the given conversations, events of the given groups or addressed
 * to the user.
 */
export async function loadItemsByIds(db: Queryable, ids: number[], audience?: Audience): Promise<Map<number, StreamItem>> {
  const found = new Map<number, StreamItem>();
  // A tick may hold 65,535 rows, past PostgreSQL's parameter limit: ask in slices.
  for (let i = 0; i < ids.length; i += ID_SLICE) {
    for (const [id, item] of await loadSlice(db, ids.slice(i, i + ID_SLICE), audience)) found.set(id, item);
  }
  return found;
}

const ID_SLICE = 5000;

async function loadSlice(db: Queryable, ids: number[], audience?: Audience): Promise<Map<number, StreamItem>> {
  const found = new Map<number, StreamItem>();
  if (ids.length === 0) return found;
  const conversationIds = audience ? [...audience.groupIds, ...audience.privateConversationIds] : [];
  const messageRows: MessageView[] =
    audience && conversationIds.length === 0
      ? []
      : await db
          .select(messageViewColumns)
          .from(messages)
          .where(and(inArray(messages.id, ids), audience ? inArray(messages.conversationId, conversationIds) : undefined));
  const eventRows = await db
    .select(eventViewColumns)
    .from(streamEvents)
    .where(
      and(
        inArray(streamEvents.id, ids),
        audience
          ? or(
              audience.groupIds.length > 0 ? inArray(streamEvents.groupId, audience.groupIds) : undefined,
              arrayContains(streamEvents.userIds, [audience.userId]),
            )
          : undefined,
      ),
    );
  for (const message of messageRows) found.set(message.id, { kind: "message", id: message.id, message, pos: 0 });
  for (const row of eventRows) {
    const event = parseStreamEvent(row);
    if (event) found.set(row.id, { kind: "event", id: row.id, event, pos: 0 });
  }
  return found;
}

/**
 * Stream items with after < pos <= upTo, in stream order, reading at most `maxTicks` ticks and
 * `maxIds` rows' ids. Returns them with the position the scan covered (the caller continues from
 * there: with an audience, a page may hold nothing and still move on).
 */
export async function loadStreamItems(
  db: Queryable,
  range: { after: number; upTo: number; maxTicks?: number; maxIds?: number },
  audience?: Audience,
): Promise<{ items: StreamItem[]; scannedTo: number }> {
  const maxTicks = range.maxTicks ?? 200;
  const maxIds = range.maxIds ?? 2000;
  const ticks = await loadTicks(db, tickOf(range.after) - 1, tickOf(range.upTo), maxTicks);
  const wanted: Array<{ pos: number; id: number }> = [];
  let scannedTo = ticks.length === maxTicks ? endOfTick(ticks.at(-1)?.tick ?? tickOf(range.upTo)) : range.upTo;
  outer: for (const t of ticks) {
    for (let k = 0; k < t.itemIds.length; k++) {
      const pos = positionOf(t.tick, k + 1);
      if (pos <= range.after) continue;
      if (pos > range.upTo) break outer;
      if (wanted.length === maxIds) {
        scannedTo = wanted.at(-1)?.pos ?? range.after;
        break outer;
      }
      wanted.push({ pos, id: t.itemIds[k] as number });
    }
  }
  const rows = await loadItemsByIds(
    db,
    wanted.map((w) => w.id),
    audience,
  );
  const items: StreamItem[] = [];
  for (const w of wanted) {
    const row = rows.get(w.id);
    if (row) items.push({ ...row, pos: w.pos });
  }
  return { items, scannedTo: Math.max(scannedTo, range.after) };
}

/**
 * The stream position of the row with this id (a client's resume cursor), or undefined when no
 * tick holds it (an id from before ticks existed, or not an id of ours).
 */
export async function positionOfRow(db: Queryable, id: number): Promise<number | undefined> {
  const rows = await queryRows<{ tick: number | string; rank: number | string }>(
    db,
    sql`select t.tick, array_position(t.item_ids, ${id}::bigint) as rank
        from ${streamTicks} t
        where t.snap_xmax > coalesce((select tx from message where id = ${id}), (select tx from stream_event where id = ${id}))
          and ${id}::bigint = any(t.item_ids)
        order by t.snap_xmax, t.tick
        limit 1`,
  );
  const row = rows[0];
  return row ? positionOf(Number(row.tick), Number(row.rank)) : undefined;
}

/**
 * Membership events addressed to `userId` after `position`, in stream order: those of later ticks
 * (and of the same tick, ranked after it), then those committed but not ticked yet. Read in one
 * statement, so a row is either in a tick that statement sees or counted as not ticked.
 */
export async function membershipEventsAfter(db: Queryable, userId: string, position: number, types: readonly string[]): Promise<StreamEventView[]> {
  const rows = await queryRows<RawStreamEvent & { tick: number | string | null; rank: number | string | null }>(
    db,
    sql`with last as (select snap from ${streamTicks} order by tick desc limit 1)
        select e.id, e.type, e.group_id as "groupId", e.user_ids as "userIds", e.payload, e.created_at as "createdAt", t.tick, u.rank
        from ${streamTicks} t
        cross join lateral unnest(t.item_ids) with ordinality as u(id, rank)
        join ${streamEvents} e on e.id = u.id
        where t.tick >= ${tickOf(position)} and e.type in ${sql`(${sql.join(types.map((t) => sql`${t}`), sql`, `)})`} and e.user_ids @> array[${userId}]::text[]
        union all
        select e.id, e.type, e.group_id, e.user_ids, e.payload, e.created_at, null, null
        from ${streamEvents} e, last
        where e.tx >= pg_snapshot_xmin(last.snap) and not pg_visible_in_snapshot(e.tx, last.snap)
          and e.type in ${sql`(${sql.join(types.map((t) => sql`${t}`), sql`, `)})`} and e.user_ids @> array[${userId}]::text[]`,
  );
  const placed = rows.flatMap((r) => {
    const event = parseStreamEvent(r);
    return event ? [{ event, pos: r.tick === null ? Number.MAX_SAFE_INTEGER : positionOf(Number(r.tick), Number(r.rank)) }] : [];
  });
  return placed
    .filter((p) => p.pos > position)
    .sort((a, b) => a.pos - b.pos || a.event.id - b.event.id)
    .map((p) => p.event);
}

