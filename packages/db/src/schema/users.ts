import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, smallint, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, DEFAULT_AVATAR, publicId, ts } from "./columns.js";

/** Account status (`user_info.status`). */
export const UserStatus = { normal: 0, disabled: 1 } as const;

/** `user_info`: one row per account. Status 0 normal, 1 disabled. */
export const users = pgTable(
  "user_info",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    uuid: publicId("uuid").notNull().unique("user_info_uuid_key"),
    username: varchar("username", { length: 20 }).notNull().unique("user_info_username_key"),
    nickname: varchar("nickname", { length: 20 }).notNull(),
    avatar: varchar("avatar", { length: 255 }).notNull().default(DEFAULT_AVATAR),
    gender: smallint("gender").notNull().default(0),
    signature: varchar("signature", { length: 100 }).notNull().default(""),
    /** scrypt hash in a self-describing string; never the password itself. */
    passwordHash: text("password_hash").notNull(),
    birthday: varchar("birthday", { length: 8 }).notNull().default(""),
    isAdmin: smallint("is_admin").notNull().default(0),
    status: smallint("status").notNull().default(0),
    createdAt: createdAt(),
    lastOnlineAt: ts("last_online_at"),
    lastOfflineAt: ts("last_offline_at"),
  },
  (t) => [
    index("user_info_created_at_idx").on(t.createdAt),
    index("user_info_status_idx").on(t.status),
    check("user_info_status_check", sql`${t.status} in (0, 1)`),
    check("user_info_gender_check", sql`${t.gender} in (0, 1)`),
  ],
);
