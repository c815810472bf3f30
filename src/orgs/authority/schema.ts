// The organization authority's tables (lib/sqlite-schema.ts: new steps go at the end).
import type { SchemaStep } from "../../lib/sqlite-schema";

export const ORG_AUTHORITY_SCHEMA: readonly SchemaStep[] = [
  // One row: the organization. `deleted_at` set: it answers as gone while its records leave D1.
  `CREATE TABLE org (id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL, created_at INTEGER NOT NULL,
     deleted_at INTEGER)`,
  // seq: the listing order and the members cursor.
  `CREATE TABLE members (seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
     joined_at INTEGER NOT NULL)`,
  // Pending invitations: one per address; each holds a seat until accepted, withdrawn or expired.
  `CREATE TABLE invitations (id TEXT PRIMARY KEY, email TEXT NOT NULL, email_key TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
     token_hash TEXT NOT NULL UNIQUE, invited_by TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`,
  "CREATE TABLE roles (name TEXT PRIMARY KEY, permissions TEXT NOT NULL)",
  // D1 statements and events a decision leaves, sent after it (records.ts).
  "CREATE TABLE outbox (id TEXT PRIMARY KEY, item TEXT NOT NULL)",
  // Members whose account D1 no longer has (a deletion that raced their joining): the alarm takes them out.
  "CREATE TABLE leavers (user_id TEXT PRIMARY KEY)",
  // The organization's API keys (ids; the keys live at their own objects): counted, and erased with it.
  "CREATE TABLE api_keys (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)",
  // Who made each key: their own authority counts it too, and is told when the organization erases it.
  "ALTER TABLE api_keys ADD COLUMN maker TEXT",
  // Named sequences; 'standing': the number of the latest change of any member's standing.
  "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
  // Members whose changed standing their own authority has yet to be told (standing-push.ts).
  "CREATE TABLE standing_marks (user_id TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
];
