// API key lifecycle and use. The key's ApiKeyAuthority Durable Object holds the copy
// that authenticates and is the one ordered source of what the key may do; the D1 row
// is the management record, written from what the authority answered. The cap on a
// user's keys is counted by the user's authority, which also refuses keys for a
// deleted account.
import type { Services } from "../services/services";
import type { Config } from "../config/config";
import type { Database } from "../db/client";
import type { ApiKeyRow } from "../db/schema";
import { sha256 } from "../lib/crypto";
import { type AuthorityNamespace, authorityFor } from "../sessions/authority-client";
import type { ApiKeyAuthority, KeyChanges, KeyRecord, UseResult } from "./authority/api-key-authority";
import { type ParsedApiKey, createApiKey } from "./key-format";
import {
  type UsageReport,
  activeKeyIds,
  deleteKeyRow,
  findUserKey,
  insertKey,
  updateKeyRow,
  usageReport,
  writeKeyRecord,
} from "./key-store";
import type { Permissions } from "./permissions";

export type KeyDeps = Pick<Services, "db" | "config" | "keys" | "authority">;

/** A user may hold this many keys that are not revoked. */
export const MAX_ACTIVE_KEYS_PER_USER = 100;

export interface KeyInput {
  name: string;
  permissions: Permissions;
  rateLimits: { requestsPerMinute: number | null; requestsPerDay: number | null };
  expiresAt: string | null;
}

export type CreateResult = { status: "created"; row: ApiKeyRow; key: string } | { status: "too_many" } | { status: "gone" };

/**
 * Where a new key is counted and held: it reserves the id (or refuses: too many, or the
 * owner is gone), releases it when the key could not be made, and says afterwards whether
 * it still holds it (a deletion that raced the creation ended it).
 */
export interface KeyHolder {
  reserve(id: string): Promise<"reserved" | "too_many" | "gone">;
  release(id: string): Promise<void>;
  holds(id: string): Promise<boolean>;
}

/** A new key for `userId`, made by the session (or token family) `sessionId`, which must still stand. */
export async function createKey(deps: KeyDeps, owner: { userId: string; sessionId: string }, input: KeyInput): Promise<CreateResult> {
  return mintKey(deps, { userId: owner.userId, orgId: null }, input, userKeyHolder(deps, owner));
}

/**
 * The user's authority as a key's holder: counted against the user's keys, made only by a
 * session that still stands of an account neither disabled nor deleted, and ended by a
 * proof of the address, a disable or a deletion like every key the user made.
 */
export function userKeyHolder(deps: Pick<KeyDeps, "db" | "authority">, owner: { userId: string; sessionId: string }): KeyHolder {
  const { userId, sessionId } = owner;
  const authority = authorityFor(deps.authority, userId);
  return {
    async reserve(id) {
      let reservation = await authority.reserveApiKey(id, sessionId, MAX_ACTIVE_KEYS_PER_USER, null);
      // Once per user: the authority has not counted the keys made before it kept the count.
      if (reservation === "needs_seed") {
        reservation = await authority.reserveApiKey(id, sessionId, MAX_ACTIVE_KEYS_PER_USER, await activeKeyIds(deps.db, userId));
      }
      if (reservation === "needs_seed") throw new Error("the key count was not seeded");
      return reservation;
    },
    release: (id) => authority.releaseApiKey(id),
    holds: (id) => authority.holdsApiKey(id),
  };
}

/** Makes a key held by `holder`: its id reserved, its D1 row, its object's record; undone if the holder let go meanwhile. */
export async function mintKey(
  deps: Pick<KeyDeps, "db" | "config" | "keys">,
  owner: { userId: string; orgId: string | null },
  input: KeyInput,
  holder: KeyHolder,
): Promise<CreateResult> {
  // 36^8 ids make a clash rare; a few tries make it harmless.
  for (let attempt = 0; attempt < 5; attempt++) {
    const created = await createApiKey(deps.config.apiKeys.prefix);
    const reservation = await holder.reserve(created.id);
    if (reservation !== "reserved") return { status: reservation };
    const now = new Date().toISOString();
    const row: ApiKeyRow = {
      id: created.id,
      userId: owner.userId,
      orgId: owner.orgId,
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
      version: 1,
    };
    const inserted = await insertKey(deps.db, row).catch(async (error: unknown) => {
      await holder.release(created.id);
      throw error;
    });
    if (inserted === "id_taken") {
      await holder.release(created.id);
      continue;
    }
    // The key's object is made here: where API_KEY_LOCATION_HINT says the servers that use keys run, else near this request.
    const hint = deps.config.apiKeys.locationHint;
    const keyAuthority = hint === null ? deps.keys.getByName(row.id) : deps.keys.getByName(row.id, { locationHint: hint });
    await keyAuthority.setRecord(toRecord(row));
    // A deletion (of the account or the organization) or a proof of the address that raced
    // this creation ended the reservation (and erased or revoked the key at its object, if
    // it had the id by then): make sure neither the key nor its D1 row outlives it.
    if (!(await holder.holds(row.id))) {
      await keyAuthority.erase();
      await deleteKeyRow(deps.db, row.id);
      return { status: "gone" };
    }
    return { status: "created", row, key: created.key };
  }
  throw new Error("could not allocate an API key id");
}

export type UpdateResult =
  { status: "updated"; row: ApiKeyRow } | { status: "not_found" } | { status: "revoked" } | { status: "expiry_later" };

/**
 * Changes a key at its authority first (which orders racing changes and answers the
 * full record), then writes that record to D1 unless a newer one is already there.
 */
export async function updateKey(deps: KeyDeps, userId: string, id: string, changes: KeyChanges): Promise<UpdateResult> {
  const row = await findUserKey(deps.db, userId, id);
  if (row === null) return { status: "not_found" };
  if (row.revokedAt !== null) return { status: "revoked" };
  const result = await deps.keys.getByName(id).update(changes, toRecord(row));
  if (result.status !== "updated") return result;
  const written = await writeKeyRecord(deps.db, result.record);
  return { status: "updated", row: written ?? (await findUserKey(deps.db, userId, id)) ?? row };
}

export async function revokeKey(deps: KeyDeps, userId: string, id: string): Promise<ApiKeyRow | null> {
  const row = await findUserKey(deps.db, userId, id);
  if (row === null) return null;
  await deps.keys.getByName(id).revoke();
  await authorityFor(deps.authority, userId).releaseApiKey(id);
  if (row.revokedAt !== null) return row;
  return updateKeyRow(deps.db, id, { revokedAt: new Date().toISOString(), updatedAt: new Date().toISOString() });
}

/** Authenticates one use of a presented key (parsed: its id names its object) and counts it against its limits. */
export async function useKey(
  deps: Pick<KeyDeps, "config" | "keys">,
  key: ParsedApiKey,
  request: { endpoint: string; method: string; ip: string },
): Promise<UseResult> {
  return deps.keys.getByName(key.id).use(await sha256(key.secret), {
    ...request,
    defaultRequestsPerMinute: deps.config.apiKeys.defaultRequestsPerMinute,
  });
}

export function toRecord(row: ApiKeyRow): KeyRecord {
  return {
    id: row.id,
    userId: row.userId,
    name: row.name,
    version: row.version,
    secretHash: row.secretHash,
    permissions: JSON.parse(row.permissions) as Permissions,
    limits: { requestsPerMinute: row.requestsPerMinute, requestsPerDay: row.requestsPerDay },
    expiresAt: row.expiresAt === null ? null : Date.parse(row.expiresAt),
    revoked: row.revokedAt !== null,
    orgId: row.orgId,
  };
}

/** A key's usage report, exact: what waits in the key's Durable Object for a batch is sent first. */
export async function keyUsage(deps: Pick<Services, "keys" | "d1">, keyId: string, days: number): Promise<UsageReport> {
  await deps.keys.getByName(keyId).flushUsage();
  return usageReport(deps.d1, keyId, days);
}
