// D1 side of API keys: the management record (lists, audit) and usage reports.
import { and, count, desc, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client";
import { type ApiKeyRow, apiKeys } from "../db/schema";

export async function insertKey(db: Database, row: ApiKeyRow): Promise<"ok" | "id_taken"> {
  try {
    await db.insert(apiKeys).values(row).run();
    return "ok";
  } catch (error) {
    if (/UNIQUE constraint failed: api_keys\.id/.test(String(error instanceof Error ? `${error.message} ${String(error.cause)}` : error))) {
      return "id_taken";
    }
    throw error;
  }
}

/** A key of this user, or null (unknown or someone else's: the caller cannot tell which). */
export async function findUserKey(db: Database, userId: string, id: string): Promise<ApiKeyRow | null> {
  return (await db.select().from(apiKeys).where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId))).get()) ?? null;
}

export async function listUserKeys(
  db: Database,
  userId: string,
  page: { limit: number; offset: number },
): Promise<{ items: ApiKeyRow[]; total: number }> {
  const [items, totals] = await Promise.all([
    db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.userId, userId))
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
      .limit(page.limit)
      .offset(page.offset)
      .all(),
    db.select({ total: count() }).from(apiKeys).where(eq(apiKeys.userId, userId)).get(),
  ]);
  return { items, total: totals?.total ?? 0 };
}

export async function countActiveKeys(db: Database, userId: string): Promise<number> {
  const row = await db
    .select({ total: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .get();
  return row?.total ?? 0;
}

export async function updateKeyRow(db: Database, id: string, values: Partial<ApiKeyRow>): Promise<ApiKeyRow | null> {
  return (await db.update(apiKeys).set(values).where(eq(apiKeys.id, id)).returning().get()) ?? null;
}

export interface UsageReport {
  key_id: string;
  days: number;
  since: string;
  total: number;
  by_day: Array<{ date: string; count: number }>;
  by_endpoint: Array<{ endpoint: string; method: string; count: number }>;
  by_status: Array<{ status: number; count: number }>;
}

export async function usageReport(d1: D1Database, keyId: string, days: number): Promise<UsageReport> {
  const since = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const sinceHour = `${since}T00`;
  const [byDay, byEndpoint, byStatus] = await d1.batch<Record<string, unknown>>([
    d1
      .prepare(
        `SELECT substr(hour, 1, 10) AS date, SUM(count) AS count FROM api_key_usage
         WHERE key_id = ? AND hour >= ? GROUP BY date ORDER BY date`,
      )
      .bind(keyId, sinceHour),
    d1
      .prepare(
        `SELECT endpoint, method, SUM(count) AS count FROM api_key_usage
         WHERE key_id = ? AND hour >= ? GROUP BY endpoint, method ORDER BY count DESC, endpoint`,
      )
      .bind(keyId, sinceHour),
    d1
      .prepare(
        `SELECT status, SUM(count) AS count FROM api_key_usage
         WHERE key_id = ? AND hour >= ? GROUP BY status ORDER BY status`,
      )
      .bind(keyId, sinceHour),
  ]);
  const daily = (byDay?.results ?? []) as Array<{ date: string; count: number }>;
  return {
    key_id: keyId,
    days,
    since,
    total: daily.reduce((sum, day) => sum + day.count, 0),
    by_day: daily,
    by_endpoint: (byEndpoint?.results ?? []) as UsageReport["by_endpoint"],
    by_status: (byStatus?.results ?? []) as UsageReport["by_status"],
  };
}
