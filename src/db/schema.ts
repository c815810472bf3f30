// The D1 tables read and written through drizzle, mirrored from migrations/ (the SQL
// files are the source of truth for the database; keep both in step). The other tables
// are raw SQL in the one module that owns each: api_key_usage (api-keys/key-store.ts,
// api-keys/authority/usage.ts), mail_tokens (account/mail-tokens.ts), mail_outbox
// (mail/outbox.ts), oauth_states (oauth/state-store.ts), oauth_codes (oauth/app-codes.ts).
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
  /** Advanced with every password change or reset (see migrations/0006). */
  credentialEpoch: integer("credential_epoch").notNull().default(0),
  /** The record of the authority's decision (migrations/0007); the authority refuses the sign-ins. */
  disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
  /** Lower-cased name, for the admin search. */
  nameNormalized: text("name_normalized"),
  /** A record of the last sign-in, written after it (the authority holds the exact one). */
  lastLoginAt: text("last_login_at"),
  /** The credential holder proved the address (migrations/0013; the authority holds the ordered truth). */
  addressProven: integer("address_proven", { mode: "boolean" }).notNull().default(false),
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
  /** The admin who caused it (admin_* events); null when the user did. */
  actorId: text("actor_id"),
});

export const apiKeys = sqliteTable("api_keys", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  name: text("name").notNull(),
  prefix: text("prefix").notNull(),
  secretHash: text("secret_hash").notNull(),
  /** JSON: {"resource": ["action", ...]} */
  permissions: text("permissions").notNull(),
  requestsPerMinute: integer("requests_per_minute"),
  requestsPerDay: integer("requests_per_day"),
  expiresAt: text("expires_at"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
  revokedAt: text("revoked_at"),
  lastUsedAt: text("last_used_at"),
  lastUsedIp: text("last_used_ip"),
  /** The ApiKeyAuthority's record version this row shows. */
  version: integer("version").notNull().default(0),
  /** An organization's key: the organization it acts for (userId is the member who made it); null for a user's own. */
  orgId: text("org_id"),
});

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export const oauthAccounts = sqliteTable("oauth_accounts", {
  provider: text("provider").notNull(),
  providerUserId: text("provider_user_id").notNull(),
  userId: text("user_id").notNull(),
  email: text("email"),
  createdAt: text("created_at").notNull(),
});
