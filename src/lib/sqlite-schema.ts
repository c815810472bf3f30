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

/** Whether the object's storage holds a schema (false: never written, or emptied by deleteAll). */
export function hasSchema(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").toArray().length > 0;
}

/**
 * SQL storage whose schema is applied on the first statement, not when the object
 * starts: an object that is only asked about something it does not hold (a random,
 * well-formed session id, refresh token or API key) checks `blank` and answers without
 * writing, so it leaves no storage behind.
 */
export class LazySchema {
  private ready: boolean;
  private written = 0;
  readonly sql: SqlStorage;

  constructor(
    private readonly real: SqlStorage,
    private readonly steps: readonly SchemaStep[],
  ) {
    this.ready = hasSchema(real);
    // An object that has storage gets its new steps at once, as before.
    if (this.ready) applySchema(real, steps);
    const exec: SqlStorage["exec"] = (query, ...bindings) => {
      this.ensure();
      if (!isRead(query)) this.written++;
      return real.exec(query, ...bindings);
    };
    this.sql = {
      exec,
      get databaseSize() {
        return real.databaseSize;
      },
    } as SqlStorage;
  }

  /** Nothing was ever written here (or everything was deleted since). */
  get blank(): boolean {
    return !this.ready;
  }

  ensure(): void {
    if (this.ready) return;
    applySchema(this.real, this.steps);
    this.ready = true;
    this.written++;
  }

  /**
   * How many statements that may write have run here (all but plain SELECTs, counted
   * before they run, so a statement that failed or a transaction that rolled back counts
   * too). A value remembered from a read stays true while this number has not moved.
   */
  get writes(): number {
    return this.written;
  }

  /** After `storage.deleteAll()`: the next statement applies the schema again. */
  emptied(): void {
    this.ready = false;
    this.written++;
  }
}

/** A statement that cannot write: one that begins with SELECT (anything else, a WITH included, counts as a write). */
function isRead(query: string): boolean {
  return /^\s*SELECT\s/i.test(query);
}
