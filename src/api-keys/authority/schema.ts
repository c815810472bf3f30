// The ApiKeyAuthority's SQLite schema, as ordered steps (see lib/sqlite-schema.ts).
// Objects created before the step list existed already have the first three tables
// (CREATE ... IF NOT EXISTS makes those steps harmless for them); the last step adds the
// ip column only where an older object lacks it.
import type { SchemaStep } from "../../lib/sqlite-schema";

export const API_KEY_AUTHORITY_SCHEMA: readonly SchemaStep[] = [
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS counters (window TEXT PRIMARY KEY, count INTEGER NOT NULL)",
  // Usage waiting for D1. A row is a signed count, so a correction is just another row.
  `CREATE TABLE IF NOT EXISTS usage_buffer (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    method TEXT NOT NULL,
    status INTEGER NOT NULL,
    delta INTEGER NOT NULL,
    ip TEXT
  )`,
  (sql) => {
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(usage_buffer)").toArray();
    if (!columns.some((column) => column.name === "ip")) sql.exec("ALTER TABLE usage_buffer ADD COLUMN ip TEXT");
  },
  // A use is one row: the windows it counted in ride on it, so counting costs no second
  // write. `counters` then holds only what earlier flushes took out of the buffer.
  "ALTER TABLE usage_buffer ADD COLUMN windows TEXT",
];
