// The pieces of a passwordless sign-in (email-sign-in.ts): what it asks the user's authority
// to open, the answer once opened, the code's hash and digits, the browser binding, and a
// sign-up's account id (PASSWORDLESS_SIGNUP).
import type { UserRow } from "../db/schema";
import { recordEventLater } from "../events/event-log";
import type { ClientInfo } from "../http/client-info";
import { authorityFor } from "../sessions/authority-client";
import type { EmailSignIn } from "../user-authority/email-sign-ins";
import { markEmailVerified } from "../users/user-credentials";
import { findSignInUserById } from "../users/user-store";
import { hmacSha256, randomToken, sha256 } from "../lib/crypto";
import type { Services } from "../services/services";
import { cookieLifetime, newSessionSecrets } from "../sessions/session-service";
import { createSessionToken, newMfaTicket } from "../sessions/session-token";
import { familyLifetime, tokenAnswer } from "../tokens/token-service";
import type { Assurance } from "../user-authority/session-policy";
import type { NewSession, SecondFactorMethod, SignInKind, TokenResponse } from "../user-authority/types";
import { type PublicUser, toPublicUser } from "../users/user-view";

export type EmailSignInResult =
  | { status: "cookie"; user: PublicUser; token: string; csrfToken: string; maxAgeSeconds: number; redirectTo: string | null }
  | { status: "token"; user: PublicUser; response: TokenResponse; redirectTo: string | null }
  | { status: "mfa_required"; mfaToken: string; methods: SecondFactorMethod[] }
  | { status: "disabled" }
  | { status: "invalid" }
  | { status: "throttled"; retryAfterSeconds: number }
  | { status: "other_browser" };

export type Opening =
  | { kind: "cookie"; input: NewSession; mfaToken: string; token: string; csrfToken: string; maxAgeSeconds: number }
  | { kind: "token"; input: NewSession; mfaToken: string; token: string };

/** What the sign-in asks the authority to open: a cookie session or a token family, one factor. */
export async function sessionInput(
  services: Services,
  client: ClientInfo,
  user: PublicUser,
  opening: { kind: SignInKind; credentialEpoch: number; method: string },
): Promise<Opening> {
  const { kind, credentialEpoch, method } = opening;
  const answer = { kind: kind === "cookie" ? "login" : "token", rememberMe: false, isNewUser: false, method } as const;
  const mfa = await newMfaTicket(user.id, answer);
  const assurance: NewSession["assurance"] = { aal: 1, amr: ["email"] };
  const base = { client, user, credentialEpoch, assurance, mfa: mfa.ticket };
  if (kind === "cookie") {
    const secrets = await newSessionSecrets(user.id);
    const lifetime = cookieLifetime(services.config, false);
    const input: NewSession = { ...base, id: secrets.id, kind, secretHash: secrets.secretHash, csrfHash: secrets.csrfHash, ...lifetime };
    const maxAgeSeconds = Math.floor(lifetime.absoluteMs / 1000);
    return { kind, input, mfaToken: mfa.token, token: secrets.token, csrfToken: secrets.csrfToken, maxAgeSeconds };
  }
  const family = await createSessionToken(user.id);
  const input: NewSession = {
    ...base,
    id: family.id,
    kind,
    secretHash: family.secretHash,
    csrfHash: null,
    ...familyLifetime(services.config),
  };
  return { kind, input, mfaToken: mfa.token, token: family.token };
}

/** The answer for a session or family the authority opened. */
export async function openedAnswer(
  services: Services,
  opening: Opening,
  user: PublicUser,
  opened: { assurance: Pick<Assurance, "aal" | "amr" | "authTime">; redirectTo: string | null },
): Promise<EmailSignInResult> {
  if (opening.kind === "cookie") {
    const { token, csrfToken, maxAgeSeconds } = opening;
    return { status: "cookie", user, token, csrfToken, maxAgeSeconds, redirectTo: opened.redirectTo };
  }
  const response = await tokenAnswer(services.config, {
    userId: user.id,
    familyId: opening.input.id,
    token: opening.token,
    assurance: opened.assurance,
  });
  return { status: "token", user, response, redirectTo: opened.redirectTo };
}

/**
 * PASSWORDLESS_SIGNUP: the id of the account a link or code for an address with no account
 * is kept under, derived from the address and the hour it was asked in (so an account made
 * and deleted leaves the next hour's sign-up its own). Newest first: the hour now, and the
 * one before (a code lives at most an hour).
 */
export async function signUpIds(secretKey: string, emailNormalized: string, now = Date.now()): Promise<string[]> {
  const hour = Math.floor(now / 3_600_000);
  return Promise.all(
    [hour, hour - 1].map(async (bucket) => {
      const bytes = (await hmacSha256(secretKey, `passwordless-signup:${bucket}:${emailNormalized}`)).slice(0, 16);
      bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
      bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
      const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }),
  );
}

/** A code's hash, bound to its account (a code is only ever compared within it). */
export function codeHash(userId: string, code: string): Promise<string> {
  return sha256(`${userId}:${code}`);
}

/** Six uniformly random digits (rejection sampling: no modulo bias). */
export function sixDigits(): string {
  const limit = Math.floor(0xffffffff / 1_000_000) * 1_000_000;
  for (;;) {
    const [value] = crypto.getRandomValues(new Uint32Array(1)) as unknown as [number];
    if (value < limit) return String(value % 1_000_000).padStart(6, "0");
  }
}

/** A fresh browser binding for a cookie-transport link (its hash is kept with the link). */
export function newBrowserBinding(): string {
  return randomToken(32);
}

/**
 * D1's record of what the sign-in proved: the address verified (and proven). A proof's
 * password clearing is the authority's proof cleanup (retried by its alarm until it lands).
 */
export async function recordSignInProof(
  services: Services,
  row: UserRow,
  used: Extract<EmailSignIn, { proof: unknown }>,
): Promise<PublicUser | null> {
  if (used.proof !== null) {
    recordEventLater(services, row.id, "address_proven", {
      by: "email",
      sessions_ended: used.proof.ended.length,
      factors_removed: used.proof.factorsRemoved,
      api_keys_revoked: used.proof.keyIds.length,
    });
  }
  // Proven only when the address is its credential holder's now: an unproven account that
  // kept its second factor (the MFA gate) is only verified (its holder may not be the mailbox's).
  if (row.emailVerified && (row.addressProven || !used.bound)) return null;
  const options = { byHolder: used.bound, emailNormalized: row.emailNormalized };
  const verified = await markEmailVerified(services.db, row.id, services.config.admin.emails, options);
  if (verified === null) return null;
  const found = await findSignInUserById(services.db, row.id);
  const user = toPublicUser(verified, found?.providers ?? []);
  await authorityFor(services.authority, row.id).updateUser(user);
  return user;
}
