// The read path for bearer tokens: after the JWT checks out, its user's principal
// record (user object, not-before time, revoked families) comes from this isolate's
// memory (at most PRINCIPAL_MEMORY_MS old), else KV, else the user's authority.
import { type PrincipalRecord, principalCacheKey } from "../sessions/principal-record";
import type { UserAuthority } from "../sessions/user-authority";

/** How long an isolate trusts a record it read. Part of the documented read-path bound. */
export const PRINCIPAL_MEMORY_MS = 5_000;
const MAX_ENTRIES = 10_000;

const memory = new Map<string, { record: PrincipalRecord; readAt: number }>();

export interface PrincipalDeps {
  kv: KVNamespace;
  authority: DurableObjectNamespace<UserAuthority>;
}

export async function principalRecord(deps: PrincipalDeps, userId: string): Promise<PrincipalRecord | null> {
  const now = Date.now();
  const hit = memory.get(userId);
  if (hit !== undefined && now - hit.readAt < PRINCIPAL_MEMORY_MS) return hit.record;

  const record =
    (await deps.kv.get<PrincipalRecord>(principalCacheKey(userId), "json")) ??
    (await deps.authority.getByName(userId).readPrincipal());
  if (record === null) return null;
  if (memory.size >= MAX_ENTRIES) memory.delete(memory.keys().next().value as string);
  memory.delete(userId); // re-insert at the end: Map keeps insertion order, oldest first
  memory.set(userId, { record, readAt: now });
  return record;
}

/** Drops this isolate's copy after it changed the record itself, so its own reads see the change. */
export function forgetPrincipal(userId: string): void {
  memory.delete(userId);
}
