import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = DrizzleD1Database<typeof schema>;

const cache = new WeakMap<D1Database, Database>();

/** One drizzle wrapper per D1 binding (the binding object lives as long as the isolate). */
export function database(d1: D1Database): Database {
  let db = cache.get(d1);
  if (db === undefined) {
    db = drizzle(d1, { schema });
    cache.set(d1, db);
  }
  return db;
}

/**
 * A drizzle query as a plain D1 statement, so it can share one `d1.batch` (one
 * transaction) with statements of the tables kept in raw SQL.
 */
export function asStatement(d1: D1Database, query: { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const { sql, params } = query.toSQL();
  return d1.prepare(sql).bind(...params);
}
