// API key lifecycle and use. The D1 row is the management record; the key's
// ApiKeyAuthority Durable Object holds the copy that authenticates, and is written
// first whenever a change narrows what the key may do.
import type { Config } from "../config/config";
import type { Database } from "../db/client";
import type { ApiKeyRow } from "../db/schema";
import { sha256 } from "../lib/crypto";
import type { ApiKeyAuthority, KeyRecord, UseResult } from "./api-key-authority";
import { createApiKey, parseApiKey } from "./key-format";
import { countActiveKeys, findUserKey, insertKey, updateKeyRow } from "./key-store";
import type { Permissions } from "./permissions";

export interface KeyDeps {
  db: Database;
  config: Config;
  keys: DurableObjectNamespace<ApiKeyAuthority>;
}

/** A user may hold this many keys that are not revoked. */
export const MAX_ACTIVE_KEYS_PER_USER = 100;

export interface KeyInput {
  name: string;
  permissions: Permissions;
  rateLimits: { requestsPerMinute: number | null; requestsPerDay: number | null };
  expiresAt: string | null;
}

export type CreateResult = { status: "created"; row: ApiKeyRow; key: string } | { status: "too_many" };

export async function createKey(deps: KeyDeps, userId: string, input: KeyInput): Promise<CreateResult> {
  if ((await countActiveKeys(deps.db, userId)) >= MAX_ACTIVE_KEYS_PER_USER) return { status: "too_many" };
  // 36^8 ids make a clash rare; a few tries make it harmless.
  for (let attempt = 0; attempt < 5; attempt++) {
    const created = await createApiKey(deps.config.apiKeys.prefix);
    const now = new Date().toISOString();
    const row: ApiKeyRow = {
      id: created.id,
      userId,
      name: input.name,
      prefix: created.displayPrefix,
      secretHash: created.secretHash,
      permissions: JSON.stringify(input.permissions),
      requestsPerMinute: input.rateLimits.requestsPerMinute,
      requestsPerDay: input.rateLimits.requestsPerDay,
      expiresAt: input.expiresAt,
      createdAt: now,
      updatedAt: now,
      revokedAt: null,
      lastUsedAt: null,
      lastUsedIp: null,
    };
    if ((await insertKey(deps.db, row)) === "id_taken") continue;
    await deps.keys.getByName(row.id).setRecord(toRecord(row));
    return { status: "created", row, key: created.key };
  }
  throw new Error("could not allocate an API key id");
}

export interface KeyChanges {
  name?: string;
  permissions?: Permissions;
  rateLimits?: { requestsPerMinute?: number | null; requestsPerDay?: number | null };
  expiresAt?: string | null;
}

export type UpdateResult =
  | { status: "updated"; row: ApiKeyRow }
  | { status: "not_found" }
  | { status: "revoked" }
  | { status: "expiry_later" };

export async function updateKey(deps: KeyDeps, userId: string, id: string, changes: KeyChanges): Promise<UpdateResult> {
  const row = await findUserKey(deps.db, userId, id);
  if (row === null) return { status: "not_found" };
  if (row.revokedAt !== null) return { status: "revoked" };
  if (changes.expiresAt !== undefined && !isNotLater(changes.expiresAt, row.expiresAt)) return { status: "expiry_later" };

  const values: Partial<ApiKeyRow> = { updatedAt: new Date().toISOString() };
  if (changes.name !== undefined) values.name = changes.name;
  if (changes.permissions !== undefined) values.permissions = JSON.stringify(changes.permissions);
  if (changes.rateLimits?.requestsPerMinute !== undefined) values.requestsPerMinute = changes.rateLimits.requestsPerMinute;
  if (changes.rateLimits?.requestsPerDay !== undefined) values.requestsPerDay = changes.rateLimits.requestsPerDay;
  if (changes.expiresAt !== undefined) values.expiresAt = changes.expiresAt;
  const updated = { ...row, ...values };
  // The authority first: once it answers, the key can no longer do what was taken away.
  await deps.keys.getByName(id).setRecord(toRecord(updated));
  return { status: "updated", row: (await updateKeyRow(deps.db, id, values)) ?? updated };
}

export async function revokeKey(deps: KeyDeps, userId: string, id: string): Promise<ApiKeyRow | null> {
  const row = await findUserKey(deps.db, userId, id);
  if (row === null) return null;
  await deps.keys.getByName(id).revoke();
  if (row.revokedAt !== null) return row;
  return updateKeyRow(deps.db, id, { revokedAt: new Date().toISOString(), updatedAt: new Date().toISOString() });
}

/** Authenticates one use of a presented key and counts it against the key's limits. */
export async function useKey(
  deps: Pick<KeyDeps, "config" | "keys">,
  presented: string,
  request: { endpoint: string; method: string; ip: string },
): Promise<UseResult> {
  const parsed = parseApiKey(deps.config.apiKeys.prefix, presented);
  if (parsed === null) return { status: "invalid" };
  return deps.keys.getByName(parsed.id).use(await sha256(parsed.secret), {
    ...request,
    defaultRequestsPerMinute: deps.config.apiKeys.defaultRequestsPerMinute,
  });
}

/** An expiry may only move earlier: null (never) is the latest of all. */
function isNotLater(next: string | null, current: string | null): boolean {
  if (current === null) return true;
  if (next === null) return false;
  return Date.parse(next) <= Date.parse(current);
}

function toRecord(row: ApiKeyRow): KeyRecord {
  return {
    id: row.id,
    userId: row.userId,
    secretHash: row.secretHash,
    permissions: JSON.parse(row.permissions) as Permissions,
    limits: { requestsPerMinute: row.requestsPerMinute, requestsPerDay: row.requestsPerDay },
    expiresAt: row.expiresAt === null ? null : Date.parse(row.expiresAt),
    revoked: row.revokedAt !== null,
  };
}
