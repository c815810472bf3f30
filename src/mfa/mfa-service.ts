// Second factors as the Worker handles them: enrolling TOTP and passkeys, listing and
// removing factors, new recovery codes, and turning a client's proof (a code, a
// recovery code, a passkey assertion) into what the user's authority checks. The
// authority decides; this module prepares secrets, verifies signatures and records
// the events and mail of every factor change.
import { recordEventLater } from "../events/event-log";
import { ApiError, accountDisabled, tooManyRequests } from "../http/errors";
import { toBase32 } from "../lib/base32";
import { randomBytes, randomToken } from "../lib/crypto";
import { seal } from "../lib/secret-box";
import { otpauthUri } from "../lib/totp";
import { deliver } from "../mail/mailer";
import { factorChangeMessage } from "../mail/templates";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import { totpBoxContext } from "../user-authority/factors";
import type { FactorProof, FactorView, ProofRefusal, StoredPasskey } from "../user-authority/types";
import type { PublicUser } from "../users/user-view";
import { reauthenticationRequired } from "./reauth-methods";
import { type ChallengePurpose, challengeOf, checkChallenge, issueChallenge } from "./challenges";
import { hashRecoveryCode, newRecoveryCodes } from "./recovery-codes";
import {
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
  authenticationOptions,
  registrationOptions,
  relyingParty,
  verifyAssertion,
  verifyRegistration,
} from "./webauthn";

export type MfaDeps = Pick<Services, "config" | "authority" | "db" | "d1" | "waitUntil" | "client" | "mailer" | "origin">;

/** The signed-in user a factor change is for: their id, the session (or token family) asking, and their address for the notice. */
export interface FactorOwner {
  user: PublicUser;
  sessionId: string;
}

const TOTP_SECRET_BYTES = 20; // 160 bits, RFC 4226's recommendation

/** The error a refused second factor answers with. */
export function proofRefusal(refusal: ProofRefusal): ApiError {
  switch (refusal.status) {
    case "invalid_code":
      return new ApiError(
        "invalid_mfa_code",
        refusal.stepUsed
          ? "This code was already used: wait for the next one (a new code every 30 s)"
          : "The code or passkey was not accepted",
      );
    case "throttled":
      return tooManyRequests("too_many_attempts", refusal.retryAfterSeconds);
    case "invalid_token":
      return new ApiError("invalid_token", "The MFA token is invalid, expired or already used; sign in again");
    case "refused":
      return new ApiError("invalid_credentials", "Sign in again");
    case "disabled":
      return accountDisabled();
  }
}

/** Records a factor change as a security event and mails the owner a notice. */
export function noticeFactorChange(
  deps: MfaDeps,
  user: PublicUser,
  change: "mfa_enabled" | "mfa_disabled" | "recovery_codes_regenerated" | "recovery_code_used",
  detail: { factor?: FactorView | null; ended_sessions?: boolean } = {},
): void {
  const factor = detail.factor ?? null;
  recordEventLater(deps, user.id, change, factor === null ? {} : { factor_id: factor.id, factor_type: factor.type, name: factor.name });
  deps.waitUntil(deliver(deps.mailer, factorChangeMessage(user.email, change, factor?.name ?? null)));
}

export async function listFactors(deps: MfaDeps, userId: string) {
  return authorityFor(deps.authority, userId).listFactors();
}

export async function enrollTotp(deps: MfaDeps, owner: FactorOwner, name: string | undefined) {
  const factorId = randomToken(12);
  const secret = randomBytes(TOTP_SECRET_BYTES);
  const box = await seal(deps.config.mfa.encryptionKeys, secret, totpBoxContext(owner.user.id, factorId));
  const stored = await authorityFor(deps.authority, owner.user.id).addPendingTotp(
    factorId,
    name ?? "Authenticator app",
    box,
    owner.sessionId,
  );
  if (stored === "refused") throw new ApiError("not_authenticated", "Not authenticated");
  if (stored === "second_factor_required") throw await reauthenticationRequired(deps, owner.user.id, true);
  const base32 = toBase32(secret);
  return {
    factor_id: factorId,
    secret: base32,
    otpauth_uri: otpauthUri({ issuer: deps.config.mfa.issuer, account: owner.user.email, secret: base32 }),
  };
}

export async function confirmTotp(deps: MfaDeps, owner: FactorOwner, factorId: string, code: string) {
  const recovery = await newRecoveryCodes();
  const result = await authorityFor(deps.authority, owner.user.id).confirmTotp(
    factorId,
    totpProof(deps, code),
    owner.sessionId,
    recovery.hashes,
    deps.config.login,
  );
  return factorAdded(deps, owner, result, recovery.codes);
}

export async function passkeyRegistrationOptions(deps: MfaDeps, user: PublicUser) {
  const passkeys = await authorityFor(deps.authority, user.id).passkeys();
  const challenge = await issueChallenge(deps.config.secretKey, "register", user.id);
  return registrationOptions(relyingParty(deps.config, deps.origin), user, challenge, passkeys);
}

export async function registerPasskey(deps: MfaDeps, owner: FactorOwner, response: RegistrationResponseJSON, name: string | undefined) {
  const encoded = challengeOf(response.response?.clientDataJSON);
  const challenge = encoded === null ? null : await checkChallenge(deps.config.secretKey, "register", owner.user.id, encoded);
  const verified =
    challenge === null || encoded === null ? null : await verifyRegistration(relyingParty(deps.config, deps.origin), response, encoded);
  if (challenge === null || verified === null) throw new ApiError("invalid_mfa_code", "The passkey registration was not accepted");
  const recovery = await newRecoveryCodes();
  const result = await authorityFor(deps.authority, owner.user.id).addPasskey(
    { id: randomToken(12), name: name ?? "Passkey", ...verified },
    challenge,
    owner.sessionId,
    recovery.hashes,
  );
  return factorAdded(deps, owner, result, recovery.codes);
}

async function factorAdded(
  deps: MfaDeps,
  owner: FactorOwner,
  result: Awaited<ReturnType<ReturnType<typeof authorityFor>["addPasskey"]>>,
  codes: string[],
): Promise<{ factor: FactorView; recovery_codes?: string[] }> {
  if (result.status === "not_found") throw new ApiError("not_found", "No such pending factor");
  if (result.status === "second_factor_required") throw await reauthenticationRequired(deps, owner.user.id, true);
  // The session that asked ended while the proof was checked (a logout, a reset).
  if (result.status === "refused") throw new ApiError("not_authenticated", "Not authenticated");
  if (result.status !== "added") throw proofRefusal(result);
  noticeFactorChange(deps, owner.user, "mfa_enabled", { factor: result.factor });
  return result.recoveryIssued ? { factor: result.factor, recovery_codes: codes } : { factor: result.factor };
}

export async function removeFactor(deps: MfaDeps, owner: FactorOwner, factorId: string): Promise<void> {
  const result = await authorityFor(deps.authority, owner.user.id).removeFactor(factorId, owner.sessionId);
  if (result.status === "not_found") throw new ApiError("not_found", "Factor not found");
  noticeFactorChange(deps, owner.user, "mfa_disabled", { factor: result.factor });
}

export async function regenerateRecoveryCodes(deps: MfaDeps, user: PublicUser): Promise<string[]> {
  const recovery = await newRecoveryCodes();
  if (!(await authorityFor(deps.authority, user.id).replaceRecoveryCodes(recovery.hashes))) {
    throw new ApiError("invalid_input", "Recovery codes need an active second factor");
  }
  noticeFactorChange(deps, user, "recovery_codes_regenerated");
  return recovery.codes;
}

export function totpProof(deps: Pick<MfaDeps, "config">, code: string): FactorProof {
  return { method: "totp", code, keys: deps.config.mfa.encryptionKeys };
}

export async function recoveryProof(code: string): Promise<FactorProof> {
  return { method: "recovery_code", codeHash: await hashRecoveryCode(code) };
}

/** Options for a passkey assertion by `userId` (purpose mfa or reauth) over `passkeys`. */
export async function assertionOptions(deps: MfaDeps, purpose: ChallengePurpose, userId: string, passkeys: StoredPasskey[] | null) {
  const challenge = await issueChallenge(deps.config.secretKey, purpose, userId);
  return authenticationOptions(relyingParty(deps.config, deps.origin), challenge, passkeys);
}

/**
 * Checks a passkey assertion for `purpose` against the user's passkeys: a proof the
 * authority can take (challenge and counter), or a failed one (which it counts).
 */
export async function assertionProof(
  deps: MfaDeps,
  purpose: ChallengePurpose,
  challengeUserId: string,
  response: AuthenticationResponseJSON,
  passkeys: StoredPasskey[],
): Promise<Extract<FactorProof, { method: "webauthn" }>> {
  const failed = { method: "webauthn", verified: false } as const;
  const encoded = challengeOf(response.response?.clientDataJSON);
  const passkey = passkeys.find((item) => item.credentialId === response.id);
  if (encoded === null || passkey === undefined) return failed;
  const challenge = await checkChallenge(deps.config.secretKey, purpose, challengeUserId, encoded);
  if (challenge === null) return failed;
  const verified = await verifyAssertion(relyingParty(deps.config, deps.origin), response, encoded, passkey);
  if (verified === null) return failed;
  return { method: "webauthn", verified: true, credentialId: passkey.credentialId, ...verified, challenge };
}
