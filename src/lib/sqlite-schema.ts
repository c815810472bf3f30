// Versioned schemas for Durable Object SQLite storage: each object applies the steps it
// has not applied yet, in order, and records how far it got. Adding a column is a new
// step at the end of the list, never an edit of an old one.

/** A statement, or a function for a step that must look before it changes (e.g. a column older objects may already have). */
export type SchemaStep = string | ((sql: SqlStorage) => void);

/** Applies `steps[version..]` and records the new version, all in one synchronous pass. */
export function applySchema(sql: SqlStorage, steps: readonly SchemaStep[]): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  const applied = row?.version ?? 0;
  if (applied >= steps.length) return;
  for (const step of steps.slice(applied)) {
    if (typeof step === "string") sql.exec(step);
    else step(sql);
  }
  if (row === undefined) sql.exec("INSERT INTO schema_version (version) VALUES (?)", steps.length);
  else sql.exec("UPDATE schema_version SET version = ?", steps.length);
}
