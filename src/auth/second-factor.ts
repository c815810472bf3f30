// The other half of the MFA gate (the gate itself is in the user's authority, where
// every first factor turns into a session or a token family): answering a stopped
// sign-in with `mfa_required`, and completing it with its second factor so that it
// answers exactly what the first factor would have (cookies, or a token pair).
import { ApiError } from "../http/errors";
import { sha256 } from "../lib/crypto";
import { assertionOptions, assertionProof, noticeFactorChange, proofRefusal, recoveryProof, totpProof } from "../mfa/mfa-service";
import type { AuthenticationResponseJSON } from "../mfa/webauthn";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import type { FactorProof, TokenResponse } from "../user-authority/types";
import { type MfaRequired, newSessionSecrets } from "../sessions/session-service";
import { parseSessionToken, userIdOfSession } from "../sessions/session-token";
import type { Assurance } from "../user-authority/session-policy";
import type { PublicUser } from "../users/user-view";
import { startingOrg, tokenAnswer } from "../tokens/token-service";
import { recordLoginSuccess } from "./login-outcome";

/** The answer of a first factor stopped at the gate: 401 mfa_required with the token and the methods. */
export function mfaRequired(stopped: Pick<MfaRequired, "mfaToken" | "methods">): ApiError {
  return new ApiError("mfa_required", "A second factor is required to finish signing in", {
    extra: { mfa_token: stopped.mfaToken, methods: stopped.methods },
    headers: { "Cache-Control": "no-store" },
  });
}

export type SecondFactorInput =
  { method: "totp" | "recovery_code"; code: string } | { method: "webauthn"; response: AuthenticationResponseJSON };

export type CompletedSignIn =
  | { kind: "cookie"; token: string; csrfToken: string; maxAgeSeconds: number; body: Record<string, unknown> }
  | { kind: "token"; body: TokenResponse };

const invalidToken = (): ApiError => new ApiError("invalid_token", "The MFA token is invalid, expired or already used; sign in again");

/** Where an mfa_token's sign-in waits: the user's authority, the pending id and the token's hash. */
async function ticketOf(mfaToken: string): Promise<{ userId: string; id: string; tokenHash: string }> {
  const parsed = parseSessionToken(mfaToken);
  if (parsed === null) throw invalidToken();
  return { userId: userIdOfSession(parsed.id), id: parsed.id, tokenHash: await sha256(parsed.secret) };
}

/** PublicKeyCredentialRequestOptions for the passkeys of the user an mfa_token names. */
export async function mfaPasskeyOptions(services: Services, mfaToken: string) {
  const ticket = await ticketOf(mfaToken);
  const passkeys = await authorityFor(services.authority, ticket.userId).pendingPasskeys(ticket.id, ticket.tokenHash);
  if (passkeys === null) throw invalidToken();
  // No passkey, or the sign-in began with a passkey that did not verify the user (the same one is never also the second).
  if (passkeys.length === 0) throw new ApiError("invalid_input", "No passkey can complete this sign-in; use another method");
  return assertionOptions(services, "mfa", ticket.userId, passkeys);
}

export async function completeSecondFactor(services: Services, mfaToken: string, input: SecondFactorInput): Promise<CompletedSignIn> {
  const ticket = await ticketOf(mfaToken);
  const authority = authorityFor(services.authority, ticket.userId);
  let proof: FactorProof;
  if (input.method === "webauthn") {
    const passkeys = await authority.pendingPasskeys(ticket.id, ticket.tokenHash);
    if (passkeys === null) throw invalidToken();
    proof = await assertionProof(services, "mfa", ticket.userId, input.response, passkeys);
  } else {
    proof = input.method === "totp" ? totpProof(services, input.code) : await recoveryProof(input.code);
  }
  const secrets = await newSessionSecrets(ticket.userId);
  const result = await authority.completeSignIn(
    ticket.id,
    ticket.tokenHash,
    proof,
    { id: secrets.id, secretHash: secrets.secretHash, csrfHash: secrets.csrfHash },
    services.config.sessions.maxPerUser,
    services.config.login,
  );
  if (result.status !== "created") throw proofRefusal(result);
  const { answer, user } = result;
  recordLoginSuccess(services, user, { kind: result.kind, method: `${answer.method}+${input.method}`, newDevice: result.newDevice });
  if (result.recoveryCodeUsed) noticeFactorChange(services, user, "recovery_code_used");
  return signedInAnswer(services, {
    kind: result.kind,
    user,
    secrets,
    assurance: result.assurance,
    absoluteMs: result.absoluteMs,
    extra: answer.kind === "oauth" ? { is_new_user: answer.isNewUser } : {},
    orgId: answer.orgId ?? null,
  });
}

/** The answer for a session or token family the authority has just opened: the token pair, or the login body and its cookies. */
export async function signedInAnswer(
  services: Services,
  opened: {
    kind: "cookie" | "token";
    user: PublicUser;
    secrets: { id: string; token: string; csrfToken: string };
    assurance: Assurance;
    absoluteMs: number;
    extra: Record<string, unknown>;
    /** The organization a token family starts in (its claims, as the organization has the role now). */
    orgId?: string | null;
  },
): Promise<CompletedSignIn> {
  const { user, secrets } = opened;
  if (opened.kind === "token") {
    // The organization the first factor asked for, checked now that the sign-in stands.
    const org = await startingOrg(services, authorityFor(services.authority, user.id), user.id, secrets.id, opened.orgId);
    if (org === "not_a_member") throw new ApiError("not_a_member", "You are not a member of this organization");
    const body = await tokenAnswer(services.config, {
      userId: user.id,
      familyId: secrets.id,
      token: secrets.token,
      assurance: opened.assurance,
      org,
    });
    return { kind: "token", body };
  }
  const body = { user, csrf_token: secrets.csrfToken, ...opened.extra };
  return { kind: "cookie", token: secrets.token, csrfToken: secrets.csrfToken, maxAgeSeconds: Math.floor(opened.absoluteMs / 1000), body };
}
