// The user's claims a scope releases (OpenID Connect Core §5.4): email and email_verified
// with `email`; name and preferred_username with `profile`. `sub` is always the user id.
import type { PublicUser } from "../users/user-view";

export function userClaims(user: PublicUser, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes("email")) {
    claims.email = user.email;
    claims.email_verified = user.email_verified;
  }
  if (scopes.includes("profile")) {
    if (user.name !== null) claims.name = user.name;
    if (user.username !== null) claims.preferred_username = user.username;
  }
  return claims;
}
