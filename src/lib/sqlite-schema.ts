// Versioned schemas for Durable Object SQLite storage: each object applies the steps it
// has not applied yet, in order, and records how far it got. Adding a column is a new
// step at the end of the list, never an edit of an old one.

/** Applies `steps[version..]` and records the new version, all in one synchronous pass. */
export function applySchema(sql: SqlStorage, steps: readonly string[]): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  const applied = row?.version ?? 0;
  if (applied >= steps.length) return;
  for (const statement of steps.slice(applied)) sql.exec(statement);
  if (row === undefined) sql.exec("INSERT INTO schema_version (version) VALUES (?)", steps.length);
  else sql.exec("UPDATE schema_version SET version = ?", steps.length);
}
