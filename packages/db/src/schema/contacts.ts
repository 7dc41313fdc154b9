import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, smallint, unique, varchar } from "drizzle-orm/pg-core";
import { createdAt, publicId, ts } from "./columns.js";
import { users } from "./users.js";

export const ContactType = { user: 0, group: 1 } as const;

/**
 * Contact status. Friends use 0-4, group memberships 0 and 5-8.
 * Membership has exactly one source of truth: rows with contact_type = 1.
 */
export const ContactStatus = {
  normal: 0,
  blockedByMe: 1,
  blockedMe: 2,
  deleted: 3,
  deletedByPeer: 4,
  muted: 5,
  left: 6,
  kicked: 7,
  dismissed: 8,
} as const;

/**
 * A member's role in a group (`user_contact.role`, group rows only; friend rows keep 0). The owner
 * is `group_info.owner_id`, not a role: an owner's own row keeps whatever role it has.
 */
export const MemberRole = { member: 0, admin: 1 } as const;

/** Group-membership statuses that still count as a member (receives messages, counted in member_cnt). */
export const ACTIVE_MEMBER_STATUSES = [ContactStatus.normal, ContactStatus.muted] as const;

/** `user_contact`: one row per direction for friends, one row per member for groups. */
export const contacts = pgTable(
  "user_contact",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    userId: publicId("user_id")
      .notNull()
      .references(() => users.uuid, { onDelete: "cascade" }),
    /** A user uuid (friend) or a group uuid (membership). */
    contactId: publicId("contact_id").notNull(),
    contactType: smallint("contact_type").notNull(),
    status: smallint("status").notNull().default(0),
    /** MemberRole, for group memberships. */
    role: smallint("role").notNull().default(MemberRole.member),
    createdAt: createdAt(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    unique("user_contact_user_contact_type_key").on(t.userId, t.contactId, t.contactType),
    index("user_contact_contact_type_status_idx").on(t.contactId, t.contactType, t.status),
    check("user_contact_type_check", sql`${t.contactType} in (0, 1)`),
    check("user_contact_status_check", sql`${t.status} between 0 and 8`),
    check("user_contact_role_check", sql`${t.role} in (0, 1)`),
  ],
);

export const ApplyStatus = { pending: 0, approved: 1, rejected: 2, blacklisted: 3 } as const;

/** `contact_apply`: friend requests and group join requests; a re-apply resets the one row. */
export const contactApplies = pgTable(
  "contact_apply",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    uuid: publicId("uuid").notNull().unique("contact_apply_uuid_key"),
    /** The applicant. */
    userId: publicId("user_id")
      .notNull()
      .references(() => users.uuid, { onDelete: "cascade" }),
    /** The target user, or the group to join. */
    contactId: publicId("contact_id").notNull(),
    contactType: smallint("contact_type").notNull(),
    status: smallint("status").notNull().default(0),
    message: varchar("message", { length: 100 }).notNull().default(""),
    /** Who invited the applicant, when a non-owner's invite created this request. */
    invitedBy: publicId("invited_by"),
    decidedBy: publicId("decided_by"),
    decidedAt: ts("decided_at"),
    lastApplyAt: ts("last_apply_at").notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [
    unique("contact_apply_user_contact_type_key").on(t.userId, t.contactId, t.contactType),
    index("contact_apply_contact_type_status_idx").on(t.contactId, t.contactType, t.status),
    check("contact_apply_type_check", sql`${t.contactType} in (0, 1)`),
    check("contact_apply_status_check", sql`${t.status} between 0 and 3`),
  ],
);
