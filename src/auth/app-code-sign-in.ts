// The mobile end of an OAuth login: the one-time app code the callback gave, redeemed
// with the app's PKCE verifier for a token pair (POST /auth/token, authorization_code).
import type { ClientInfo } from "../http/client-info";
import { ApiError, accountDisabled } from "../http/errors";
import { redeemAppCode } from "../oauth/app-codes";
import type { Services } from "../services/services";
import { type IssuedTokens, issueTokens } from "../tokens/token-service";
import { findUserById, publicUser } from "../users/user-store";
import { recordLoginSuccess } from "./login-outcome";
import { mfaRequired } from "./second-factor";

/** The mobile end of an OAuth login: a one-time code and the app's PKCE verifier, for tokens. */
export async function appCodeSignIn(
  services: Services,
  client: ClientInfo,
  input: { code: string; codeVerifier: string; redirectUri: string },
): Promise<IssuedTokens> {
  const redeemed = await redeemAppCode(services.d1, input);
  const row = redeemed === null ? null : await findUserById(services.db, redeemed.userId);
  if (row === null) throw new ApiError("invalid_grant", "The code is invalid, expired or already used");
  const user = await publicUser(services.db, row);
  const issued = await issueTokens(services, user, client, {
    credentialEpoch: row.credentialEpoch,
    amr: ["oauth"],
    answer: { isNewUser: false, method: "oauth_code" },
    madeAt: redeemed?.madeAt,
  });
  if (issued === null) throw new ApiError("invalid_grant", "The code is invalid, expired or already used");
  if (issued.status === "disabled") throw accountDisabled();
  if (issued.status === "mfa_required") throw mfaRequired(issued);
  // No organization is asked for here; a family that would need one does not exist.
  if (issued.status === "not_a_member") throw new ApiError("not_a_member", "You are not a member of this organization");
  recordLoginSuccess(services, user, { kind: "token", method: "oauth_code", newDevice: issued.newDevice });
  return issued;
}
