import { bigint, timestamp, varchar } from "drizzle-orm/pg-core";

/** Public ids are a one-letter prefix plus 11 base62 characters; older user ids were up to 20. */
export const publicId = (name: string) => varchar(name, { length: 20 });

/** Every time column is a timestamptz with millisecond precision (the legacy wire formats need no more). */
export const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });

export const createdAt = () => ts("created_at").notNull().defaultNow();

/** Sequence numbers fit easily in a JS number (2^53), so they are read as numbers. */
export const seqColumn = (name: string) => bigint(name, { mode: "number" });

export const DEFAULT_AVATAR = "https://cube.elemecdn.com/0/88/03b0d39583f48206768a7534e55bcpng.png";
