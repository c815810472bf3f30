// What a read-only bearer-token or API-key request needs to know about a user besides
// the credential itself: the user object, the not-before time set by logout-all and
// password changes, and the user's live token families. The UserAuthority's cache
// writer puts it in KV under `user:<id>` whenever it changes.
import type { PublicUser } from "../users/user-view";
import type { MemberStanding, OrgStanding } from "./org-standings";

export interface PrincipalRecord {
  user: PublicUser;
  /** Access tokens issued (iat) before this time, in ms, are rejected. */
  notBefore: number;
  /** Ids of the token families that are alive. */
  families: string[];
  /**
   * The user's standing in each organization as each told the authority (null: no longer
   * a member), for a read with an access token acting in one; absent in records written
   * before organizations.
   */
  orgs?: Record<string, MemberStanding | null>;
  /** When the authority produced this record (ms). */
  writtenAt: number;
}

/**
 * How an access token stands against a record: listed families are alive; a family
 * missing from the record was ended, or was created after the record was written (then
 * only the authority knows, and the caller asks it).
 */
export type TokenStanding = "valid" | "revoked" | "ask_authority";

export function tokenStanding(record: PrincipalRecord, familyId: string, issuedAtSeconds: number): TokenStanding {
  const issuedAtMs = issuedAtSeconds * 1000;
  if (issuedAtMs < record.notBefore) return "revoked";
  if (record.families.includes(familyId)) return "valid";
  // iat is whole seconds: a token from the second the record was written may be newer.
  return issuedAtMs > record.writtenAt - 1000 ? "ask_authority" : "revoked";
}

/**
 * A token's organization (its `org_id` claim) as the record has the user's standing in it:
 * null when no longer a member; undefined when the record does not know (ask the organization).
 */
export function recordedOrgStanding(record: PrincipalRecord, orgId: string): OrgStanding | null | undefined {
  const orgs = record.orgs;
  if (orgs === undefined || !Object.hasOwn(orgs, orgId)) return undefined;
  const standing = orgs[orgId];
  return standing === null || standing === undefined ? null : { ...standing, id: orgId };
}

/** The record without its write time: equal fingerprints need no new KV write. */
export function principalFingerprint(record: Omit<PrincipalRecord, "writtenAt">): string {
  const orgs = Object.entries(record.orgs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([record.user, record.notBefore, [...record.families].sort(), orgs]);
}
