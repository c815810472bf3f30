// Checking an access token beyond its signature: is its family still alive, and was it
// issued after the user's last logout-all? Writes (authoritative) ask the user's
// authority; reads use the cached principal record. Shared by the HTTP middleware,
// introspection and the AuthService RPC entrypoint.
import type { Config } from "../config/config";
import { isTokenRevoked } from "../sessions/principal-record";
import type { UserAuthority } from "../sessions/user-authority";
import { type AccessClaims, verifyAccessToken } from "../tokens/access-token";
import { principalRecord } from "../tokens/principal-cache";
import type { PublicUser } from "../users/user-view";

export interface AccessDeps {
  config: Config;
  kv: KVNamespace;
  authority: DurableObjectNamespace<UserAuthority>;
}

export type AccessCheck =
  | { status: "valid"; claims: AccessClaims; user: PublicUser }
  | { status: "invalid" }
  | { status: "revoked" };

export async function checkAccessToken(
  deps: AccessDeps,
  token: string,
  options: { authoritative: boolean },
): Promise<AccessCheck> {
  const claims = await verifyAccessToken(deps.config, token);
  if (claims === null) return { status: "invalid" };
  if (options.authoritative) {
    const result = await deps.authority.getByName(claims.userId).authorizeFamily(claims.familyId, claims.issuedAt);
    return result.status === "valid" ? { status: "valid", claims, user: result.user } : { status: "revoked" };
  }
  const record = await principalRecord({ kv: deps.kv, authority: deps.authority }, claims.userId);
  if (record === null || isTokenRevoked(record, claims.familyId, claims.issuedAt)) return { status: "revoked" };
  return { status: "valid", claims, user: record.user };
}
