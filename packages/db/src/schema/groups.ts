import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, pgTable, smallint, varchar } from "drizzle-orm/pg-core";
import { createdAt, DEFAULT_AVATAR, publicId, ts } from "./columns.js";
import { users } from "./users.js";

export const GroupStatus = { normal: 0, disabled: 1, dismissed: 2 } as const;
export const AddMode = { direct: 0, approval: 1 } as const;

/** `group_info`. Membership itself lives in `user_contact`; `member_cnt` is a derived, exact copy. */
export const groups = pgTable(
  "group_info",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    uuid: publicId("uuid").notNull().unique("group_info_uuid_key"),
    name: varchar("name", { length: 20 }).notNull(),
    notice: varchar("notice", { length: 500 }).notNull().default(""),
    ownerId: publicId("owner_id")
      .notNull()
      .references(() => users.uuid),
    memberCnt: integer("member_cnt").notNull().default(1),
    addMode: smallint("add_mode").notNull().default(AddMode.direct),
    avatar: varchar("avatar", { length: 255 }).notNull().default(DEFAULT_AVATAR),
    status: smallint("status").notNull().default(GroupStatus.normal),
    /** Mute all: while true only the owner and admins may send. */
    muteAll: boolean("mute_all").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("group_info_owner_id_idx").on(t.ownerId),
    index("group_info_created_at_idx").on(t.createdAt),
    check("group_info_member_cnt_check", sql`${t.memberCnt} >= 0`),
    check("group_info_add_mode_check", sql`${t.addMode} in (0, 1)`),
    check("group_info_status_check", sql`${t.status} in (0, 1, 2)`),
  ],
);
