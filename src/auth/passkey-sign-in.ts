// Passwordless sign-in with a discoverable passkey. The assertion names its user (the
// user handle is the user id the passkey was registered with); the signature is checked
// against that user's stored passkeys, and the user's authority takes the challenge and
// the counter and applies the MFA gate like any first factor. A passkey that verified
// the user is aal 2 on its own; one that did not is one factor.
import { ApiError } from "../http/errors";
import type { ClientInfo } from "../http/client-info";
import { fromBase64Url } from "../lib/encoding";
import { assertionOptions, assertionProof, proofRefusal } from "../mfa/mfa-service";
import type { AuthenticationResponseJSON } from "../mfa/webauthn";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import { type MfaRequired, cookieLifetime, newSessionSecrets } from "../sessions/session-service";
import { newMfaTicket } from "../sessions/session-token";
import { familyLifetime } from "../tokens/token-service";
import { findUserById, publicUser } from "../users/user-store";
import { recordLoginSuccess } from "./login-outcome";
import { type CompletedSignIn, signedInAnswer } from "./second-factor";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function passkeyLoginOptions(services: Services) {
  return assertionOptions(services, "login", "", null);
}

const refused = (): ApiError => new ApiError("invalid_mfa_code", "The passkey was not accepted");

/** The user id a discoverable credential's user handle carries, or null. */
function userIdOf(response: AuthenticationResponseJSON): string | null {
  const handle = response.response.userHandle;
  const bytes = handle === undefined ? null : fromBase64Url(handle);
  if (bytes === null) return null;
  const text = new TextDecoder().decode(bytes);
  return UUID.test(text) ? text : null;
}

export async function passkeySignIn(
  services: Services,
  client: ClientInfo,
  response: AuthenticationResponseJSON,
  transport: "cookie" | "token",
): Promise<CompletedSignIn | MfaRequired> {
  const userId = userIdOf(response);
  const row = userId === null ? null : await findUserById(services.db, userId);
  if (row === null) throw refused();
  const authority = authorityFor(services.authority, row.id);
  const proof = await assertionProof(services, "login", "", response, await authority.passkeys());
  if (!proof.verified) throw refused();
  const user = await publicUser(services.db, row);
  const kind = transport === "token" ? "token" : "cookie";
  const [secrets, mfa] = await Promise.all([
    newSessionSecrets(user.id),
    newMfaTicket(user.id, { kind: kind === "token" ? "token" : "login", rememberMe: false, isNewUser: false, method: "passkey" }),
  ]);
  const lifetime = kind === "token" ? familyLifetime(services.config) : cookieLifetime(services.config, false);
  const result = await authority.passkeySignIn(
    proof,
    {
      id: secrets.id,
      kind,
      secretHash: secrets.secretHash,
      csrfHash: kind === "cookie" ? secrets.csrfHash : null,
      ...lifetime,
      client,
      user,
      credentialEpoch: row.credentialEpoch,
      assurance: { aal: proof.userVerified ? 2 : 1, amr: ["webauthn"] },
      mfa: mfa.ticket,
    },
    services.config.sessions.maxPerUser,
  );
  if (result.status === "mfa_required") return { status: "mfa_required", mfaToken: mfa.token, methods: result.methods };
  if (result.status !== "created") throw proofRefusal(result);
  recordLoginSuccess(services, user, { kind, method: "passkey", newDevice: result.newDevice });
  return signedInAnswer(services, { kind, user, secrets, assurance: result.assurance, absoluteMs: lifetime.absoluteMs, extra: {} });
}
