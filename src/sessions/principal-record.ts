// What a read-only bearer-token request needs to know about a user besides the JWT:
// the user object, the not-before time set by logout-all, and recently revoked token
// families. The UserAuthority writes it to KV under `user:<id>` whenever it changes.
import type { PublicUser } from "../users/user-view";

export interface PrincipalRecord {
  user: PublicUser;
  /** Access tokens issued (iat) before this time, in ms, are rejected. */
  notBefore: number;
  /** Token family id -> when it was revoked (ms). */
  revokedFamilies: Record<string, number>;
}

/**
 * Revoked families are remembered this long: longer than any access token lives
 * (ACCESS_TOKEN_EXPIRE_MINUTES is capped at a day), after which their tokens expire anyway.
 */
export const REVOKED_FAMILY_MEMORY_MS = 24 * 60 * 60 * 1000;

export function principalCacheKey(userId: string): string {
  return `user:${userId}`;
}

/** Whether an access token of `familyId` issued at `issuedAtSeconds` still stands. */
export function isTokenRevoked(record: PrincipalRecord, familyId: string, issuedAtSeconds: number): boolean {
  return issuedAtSeconds * 1000 < record.notBefore || record.revokedFamilies[familyId] !== undefined;
}
