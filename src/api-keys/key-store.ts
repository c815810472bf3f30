// D1 side of API keys: the management record (lists, audit) and usage reports.
import { and, count, desc, eq, isNull, lt } from "drizzle-orm";
import { uniqueViolation } from "../db/unique-conflict";
import type { KeyRecord } from "./authority/api-key-authority";
import { type Database, asStatement } from "../db/client";
import { type ApiKeyRow, apiKeys } from "../db/schema";

export async function insertKey(db: Database, row: ApiKeyRow): Promise<"ok" | "id_taken"> {
  try {
    await db.insert(apiKeys).values(row).run();
    return "ok";
  } catch (error) {
    if (uniqueViolation(error) === "api_keys.id") {
      return "id_taken";
    }
    throw error;
  }
}

/** A key of this user (their own, not one they made for an organization), or null (unknown or someone else's: the caller cannot tell which). */
export async function findUserKey(db: Database, userId: string, id: string): Promise<ApiKeyRow | null> {
  return (
    (await db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId), isNull(apiKeys.orgId)))
      .get()) ?? null
  );
}

/** A key of this organization, or null. */
export async function findOrgKey(db: Database, orgId: string, id: string): Promise<ApiKeyRow | null> {
  return (
    (await db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, orgId)))
      .get()) ?? null
  );
}

/** An organization's keys, newest first. */
export async function listOrgKeys(
  db: Database,
  orgId: string,
  page: { limit: number; offset: number },
): Promise<{ items: ApiKeyRow[]; total: number }> {
  const [items, totals] = await Promise.all([
    db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.orgId, orgId))
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
      .limit(page.limit)
      .offset(page.offset)
      .all(),
    db.select({ total: count() }).from(apiKeys).where(eq(apiKeys.orgId, orgId)).get(),
  ]);
  return { items, total: totals?.total ?? 0 };
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
      .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.orgId)))
      .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
      .limit(page.limit)
      .offset(page.offset)
      .all(),
    db
      .select({ total: count() })
      .from(apiKeys)
      .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.orgId)))
      .get(),
  ]);
  return { items, total: totals?.total ?? 0 };
}

/** The user's unrevoked keys as D1 lists them (seeds the user authority's count once). */
export async function activeKeyIds(db: Database, userId: string): Promise<string[]> {
  const rows = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt), isNull(apiKeys.orgId)))
    .all();
  return rows.map((row) => row.id);
}

/** Writes a record the key's authority answered, unless D1 already has a newer version. */
export async function writeKeyRecord(db: Database, record: KeyRecord): Promise<ApiKeyRow | null> {
  return (
    (await db
      .update(apiKeys)
      .set({
        name: record.name,
        permissions: JSON.stringify(record.permissions),
        requestsPerMinute: record.limits.requestsPerMinute,
        requestsPerDay: record.limits.requestsPerDay,
        expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
        version: record.version,
        updatedAt: new Date().toISOString(),
      })
      .where(and(eq(apiKeys.id, record.id), lt(apiKeys.version, record.version)))
      .returning()
      .get()) ?? null
  );
}

/** Every key id D1 lists for the user, revoked ones and those they made for an organization too (a deleted account's go with it). */
export async function allKeyIds(db: Database, userId: string): Promise<string[]> {
  const rows = await db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.userId, userId)).all();
  return rows.map((row) => row.id);
}

/** The statements that delete the user's keys and their usage (usage is raw SQL: see usageReport). */
export function keyRowDeletions(db: Database, d1: D1Database, userId: string): D1PreparedStatement[] {
  return [
    d1.prepare("DELETE FROM api_key_usage WHERE key_id IN (SELECT id FROM api_keys WHERE user_id = ?)").bind(userId),
    d1.prepare("DELETE FROM api_key_usage_flushes WHERE key_id IN (SELECT id FROM api_keys WHERE user_id = ?)").bind(userId),
    asStatement(d1, db.delete(apiKeys).where(eq(apiKeys.userId, userId))),
  ];
}

export async function deleteKeyRow(db: Database, id: string): Promise<void> {
  await db.delete(apiKeys).where(eq(apiKeys.id, id)).run();
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
  /** Requests per day and status, for a stacked chart (an addition to the contract's fields). */
  by_day_status: Array<{ date: string; status: number; count: number }>;
}

export async function usageReport(d1: D1Database, keyId: string, days: number): Promise<UsageReport> {
  const since = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const sinceHour = `${since}T00`;
  const [byDay, byEndpoint, byStatus, byDayStatus] = await d1.batch<Record<string, unknown>>([
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
    d1
      .prepare(
        `SELECT substr(hour, 1, 10) AS date, status, SUM(count) AS count FROM api_key_usage
         WHERE key_id = ? AND hour >= ? GROUP BY date, status ORDER BY date, status`,
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
    by_day_status: (byDayStatus?.results ?? []) as UsageReport["by_day_status"],
  };
}

/** Usage older than the longest report (365 days) goes (the daily clean-up). */
export async function purgeOldUsage(d1: D1Database, now: number = Date.now()): Promise<number> {
  const cutoff = new Date(now - 366 * 86_400_000).toISOString().slice(0, 13);
  const result = await d1.prepare("DELETE FROM api_key_usage WHERE hour < ?").bind(cutoff).run();
  return result.meta.changes ?? 0;
}
