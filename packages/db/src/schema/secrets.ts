import { pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.js";

/**
 * Secrets every node of one database must share, generated once by whichever node starts first
 * (the JWT signing key when JWT_SECRET is not set).
 */
export const serverSecrets = pgTable("server_secret", {
  name: varchar("name", { length: 64 }).primaryKey(),
  value: text("value").notNull(),
  createdAt: createdAt(),
});
