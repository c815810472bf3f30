// D1 tables, mirrored from migrations/ (the SQL files are the source of truth for the
// database; keep both in step).
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull(),
  emailNormalized: text("email_normalized").notNull().unique(),
  username: text("username"),
  usernameNormalized: text("username_normalized").unique(),
  name: text("name"),
  passwordHash: text("password_hash"),
  emailVerified: integer("email_verified", { mode: "boolean" }).notNull().default(false),
  isSuperuser: integer("is_superuser", { mode: "boolean" }).notNull().default(false),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export type UserRow = typeof users.$inferSelect;

export const securityEvents = sqliteTable("security_events", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  type: text("type").notNull(),
  at: text("at").notNull(),
  ip: text("ip"),
  userAgent: text("user_agent"),
  /** JSON: {browser, os, type} */
  device: text("device"),
  /** JSON: {country, city} */
  location: text("location"),
  /** JSON object with event-specific fields, never a secret. */
  detail: text("detail"),
});
