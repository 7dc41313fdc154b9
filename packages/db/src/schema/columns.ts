import { sql } from "drizzle-orm";
import { bigint, customType, timestamp, varchar } from "drizzle-orm/pg-core";

/** Public ids are a one-letter prefix plus 11 base62 characters; older user ids were up to 20. */
export const publicId = (name: string) => varchar(name, { length: 20 });

/** Every time column is a timestamptz with millisecond precision (the legacy wire formats need no more). */
export const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });

export const createdAt = () => ts("created_at").notNull().defaultNow();

/** Sequence numbers fit easily in a JS number (2^53), so they are read as numbers. */
export const seqColumn = (name: string) => bigint(name, { mode: "number" });

/** A 64-bit transaction id (xid8), read as its decimal text. */
export const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => "xid8" });

/**
 * The writing transaction of a stream row, set by the database: the stream's order is decided
 * after commit by which snapshot first sees it (see stream_tick).
 */
export const writerTx = () => xid8("tx").notNull().default(sql`pg_current_xact_id()`);

/** A transaction snapshot (pg_snapshot), read as its text form `xmin:xmax:xip,…`. */
export const snapshot = customType<{ data: string; driverData: string }>({ dataType: () => "pg_snapshot" });

export const DEFAULT_AVATAR = "https://cube.elemecdn.com/0/88/03b0d39583f48206768a7534e55bcpng.png";
