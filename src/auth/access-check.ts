// Checking an access token beyond its signature: is its family alive, and was it
// issued after the user's last logout-all or password change? Writes (authoritative)
// ask the user's authority; reads use the principal record (isolate memory, KV), and
// ask the authority about a family the record cannot know yet.
import type { Services } from "../services/services";
import type { Config } from "../config/config";
import { authorityFor, type AuthorityNamespace } from "../sessions/authority-client";
import { principalRecord, rememberPrincipal } from "../sessions/isolate-memory";
import { recordedOrgStanding, tokenStanding } from "../user-authority/principal-record";
import type { OrgStanding } from "../user-authority/org-standings";
import { type AccessClaims, verifyAccessToken } from "../tokens/access-token";
import type { PublicUser } from "../users/user-view";
import type { Assurance } from "../user-authority/session-policy";

export type AccessDeps = Pick<Services, "config" | "kv" | "authority" | "waitUntil">;

export type AccessCheck =
  | {
      status: "valid";
      claims: AccessClaims;
      user: PublicUser;
      /** ms; known when the authority answered. */
      signedInAt?: number;
      /** The family's assurance now (with its re-authentication), when the authority answered. */
      assurance?: Assurance;
      /** Reads: the token's organization as the principal record has the user's standing in it (absent: unknown there). */
      org?: OrgStanding | null;
    }
  | { status: "invalid" }
  | { status: "revoked" };

export async function checkAccessToken(deps: AccessDeps, token: string, options: { authoritative: boolean }): Promise<AccessCheck> {
  const claims = await verifyAccessToken(deps.config, token);
  if (claims === null) return { status: "invalid" };
  const authority = authorityFor(deps.authority, claims.userId);
  if (options.authoritative) {
    const result = await authority.authorizeFamily(claims.familyId, claims.issuedAt);
    if (result.status !== "valid") return { status: "revoked" };
    return { status: "valid", claims, user: result.user, signedInAt: result.createdAt, assurance: result.assurance };
  }
  let record = await principalRecord(deps, claims.userId);
  let standing = record === null ? "revoked" : tokenStanding(record, claims.familyId, claims.issuedAt);
  if (standing === "ask_authority") {
    // The record predates this family (a sign-in just now): the authority's record knows it.
    record = await authority.readPrincipal();
    if (record !== null) rememberPrincipal(claims.userId, record);
    standing = record === null ? "revoked" : tokenStanding(record, claims.familyId, claims.issuedAt);
  }
  if (standing !== "valid" || record === null) return { status: "revoked" };
  const org = claims.org === undefined ? null : recordedOrgStanding(record, claims.org.id);
  return { status: "valid", claims, user: record.user, ...(org === undefined ? {} : { org }) };
}
