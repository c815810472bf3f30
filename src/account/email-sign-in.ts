// Passwordless sign-in by mail, the Worker's half: asking for a magic link or an email
// code (mailed in the background, so the answer never tells whether the address has an
// account), and using one, which the user's authority decides (user-authority/email-sign-ins.ts):
// one factor (`amr: ["email"]`), under the MFA gate, opening a cookie session or a token family.
import { activeKeyIds } from "../api-keys/key-store";
import type { UserRow } from "../db/schema";
import { recordEventLater } from "../events/event-log";
import type { ClientInfo } from "../http/client-info";
import { randomToken, sha256 } from "../lib/crypto";
import { logError } from "../lib/log";
import { deliver } from "../mail/mailer";
import { emailCodeMessage, magicLinkMessage } from "../mail/templates";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import { cookieLifetime, newSessionSecrets } from "../sessions/session-service";
import { createSessionToken, newMfaTicket, userIdOfSession } from "../sessions/session-token";
import { familyLifetime, tokenAnswer } from "../tokens/token-service";
import type { EmailProof, EmailSignIn } from "../user-authority/email-sign-ins";
import type { NewSession, SecondFactorMethod, SignInKind, TokenResponse } from "../user-authority/types";
import { MAX_TOKENS_PER_HOUR } from "./mail-tokens";
import { findSignInUser, findSignInUserById, insertUser } from "../users/user-store";
import { besideIpSlot, judged } from "../throttle/login-guard";
import { markEmailVerified } from "../users/user-credentials";
import { type PublicUser, toPublicUser } from "../users/user-view";
import { recordLoginSuccess } from "../auth/login-outcome";

export type EmailSignInKind = "link" | "code";

/** A magic link's token: the transport (`c` cookie, `t` token), then a session-token-shaped id and secret. */
const LINK_TOKEN = /^([ct])([0-9a-f]{48})\.([A-Za-z0-9_-]{43})$/;
const CODE = /^\d{6}$/;

/**
 * Mails a link or a code to the account with this address; with PASSWORDLESS_SIGNUP, to a
 * new unverified account made for it (verified by its first use). Runs after the answer.
 */
export function requestEmailSignIn(
  services: Services,
  input: { kind: EmailSignInKind; email: string; transport: SignInKind; redirectTo: string | null; browserHash: string | null },
): void {
  services.waitUntil(
    (async () => {
      const row = await accountFor(services, input.email);
      if (row === null || row.disabled) return;
      const authority = authorityFor(services.authority, row.id);
      const slot = await authority.takeMailSlot(
        input.kind === "link" ? "magic_link" : "email_code",
        row.emailNormalized,
        MAX_TOKENS_PER_HOUR,
      );
      if (slot.status !== "allowed") return;
      const { passwordless } = services.config;
      if (input.kind === "link") {
        const token = await createSessionToken(row.id);
        const kept = await authority.issueEmailSignIn({
          kind: "link",
          id: token.id,
          secretHash: token.secretHash,
          email: row.emailNormalized,
          expiresAt: Date.now() + passwordless.linkTtlMs,
          transport: input.transport,
          browserHash: input.browserHash,
          redirectTo: input.redirectTo,
        });
        const link = `${services.appBase}/magic-link?token=${input.transport === "token" ? "t" : "c"}${token.token}`;
        if (kept) await deliver(services.mailer, magicLinkMessage(row.email, link, passwordless.linkTtlMs / 60_000));
        return;
      }
      const code = sixDigits();
      const kept = await authority.issueEmailSignIn({
        kind: "code",
        id: "code",
        secretHash: await codeHash(row.id, code),
        email: row.emailNormalized,
        expiresAt: Date.now() + passwordless.codeTtlMs,
        transport: input.transport,
        browserHash: null,
        redirectTo: null,
      });
      if (kept) await deliver(services.mailer, emailCodeMessage(row.email, code, passwordless.codeTtlMs / 60_000));
    })().catch((error: unknown) => logError("email_sign_in_request_failed", error)),
  );
}

export type EmailSignInResult =
  | { status: "cookie"; user: PublicUser; token: string; csrfToken: string; maxAgeSeconds: number; redirectTo: string | null }
  | { status: "token"; user: PublicUser; response: TokenResponse; redirectTo: string | null }
  | { status: "mfa_required"; mfaToken: string; methods: SecondFactorMethod[] }
  | { status: "disabled" }
  | { status: "invalid" }
  | { status: "throttled"; retryAfterSeconds: number }
  | { status: "other_browser" };

/** Uses a magic link (its token) from the browser whose binding cookie hashes to `browserHash`. */
export async function signInWithLink(
  services: Services,
  client: ClientInfo,
  token: string,
  browserHash: string | null,
): Promise<EmailSignInResult> {
  const parsed = LINK_TOKEN.exec(token);
  if (parsed === null) return { status: "invalid" };
  const [, transport, id, secret] = parsed as unknown as [string, string, string, string];
  const found = await findSignInUserById(services.db, userIdOfSession(id));
  if (found === null) return { status: "invalid" };
  const proof: EmailProof = { kind: "link", id, secretHash: await sha256(secret), browserHash, email: found.row.emailNormalized };
  return useEmailSignIn(services, client, found, transport === "t" ? "token" : "cookie", proof, "magic_link");
}

/** Uses the email code of the account with this address. */
export async function signInWithCode(
  services: Services,
  client: ClientInfo,
  input: { email: string; code: string; transport: SignInKind },
): Promise<EmailSignInResult> {
  const { email, code, transport } = input;
  // Every entry takes a slot of the client IP's login throttle beside the account read: a
  // wrong code, or one for no account, counts as a failed sign-in (as a wrong password does).
  const throttle = { namespace: services.throttle, policy: services.config.login, waitUntil: services.waitUntil };
  const [found, ip] = await besideIpSlot(throttle, services.ip, findSignInUser(services.db, email));
  if (!ip.allowed) return { status: "throttled", retryAfterSeconds: ip.retryAfterSeconds };
  if (found === null || !CODE.test(code)) {
    services.waitUntil(ip.settle("failed"));
    return { status: "invalid" };
  }
  const proof: EmailProof = { kind: "code", secretHash: await codeHash(found.row.id, code), email: found.row.emailNormalized };
  const result = await judged(ip, services.waitUntil, useEmailSignIn(services, client, found, transport, proof, "email_code"));
  services.waitUntil(ip.settle(result.status === "invalid" ? "failed" : "released"));
  return result;
}

async function useEmailSignIn(
  services: Services,
  client: ClientInfo,
  found: { row: UserRow; providers: string[] },
  kind: SignInKind,
  proof: EmailProof,
  method: "magic_link" | "email_code",
): Promise<EmailSignInResult> {
  const { row } = found;
  const user = toPublicUser(row, found.providers);
  const opening = await sessionInput(services, client, user, { kind, credentialEpoch: row.credentialEpoch, method });
  const authority = authorityFor(services.authority, row.id);
  const record = { boundInRecord: row.addressProven, knownKeyIds: await activeKeyIds(services.db, row.id) };
  const used: EmailSignIn = await authority.emailSignIn(opening.input, services.config.sessions.maxPerUser, proof, record);
  if (used.status === "invalid" || used.status === "refused") return { status: "invalid" };
  if (used.status === "other_browser" || used.status === "disabled") return { status: used.status };
  // Whoever used it reads the address's mail: it is verified (and proven, when the proof ended what came before).
  const signedIn = (await recordSignInProof(services, row, used)) ?? user;
  if (used.status === "mfa_required") return { status: "mfa_required", mfaToken: opening.mfaToken, methods: used.methods };
  recordLoginSuccess(services, signedIn, { kind, method, newDevice: used.newDevice });
  if (opening.kind === "cookie") {
    const { token, csrfToken, maxAgeSeconds } = opening;
    return { status: "cookie", user: signedIn, token, csrfToken, maxAgeSeconds, redirectTo: used.redirectTo };
  }
  const response = await tokenAnswer(services.config, {
    userId: row.id,
    familyId: opening.input.id,
    token: opening.token,
    assurance: used.assurance,
  });
  return { status: "token", user: signedIn, response, redirectTo: used.redirectTo };
}

/**
 * D1's record of what the sign-in proved: the address verified (and proven). A proof's
 * password clearing is the authority's proof cleanup (retried by its alarm until it lands).
 */
async function recordSignInProof(
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
  if (row.emailVerified && row.addressProven) return null;
  const options = { byHolder: true, emailNormalized: row.emailNormalized };
  const verified = await markEmailVerified(services.db, row.id, services.config.admin.emails, options);
  if (verified === null) return null;
  const found = await findSignInUserById(services.db, row.id);
  const user = toPublicUser(verified, found?.providers ?? []);
  await authorityFor(services.authority, row.id).updateUser(user);
  return user;
}

type Opening =
  | { kind: "cookie"; input: NewSession; mfaToken: string; token: string; csrfToken: string; maxAgeSeconds: number }
  | { kind: "token"; input: NewSession; mfaToken: string; token: string };

/** What the sign-in asks the authority to open: a cookie session or a token family, one factor. */
async function sessionInput(
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

/** The account a link or code is for; with PASSWORDLESS_SIGNUP, a new unverified one (verified by its first use). */
async function accountFor(services: Services, email: string): Promise<UserRow | null> {
  const found = await findSignInUser(services.db, email);
  if (found !== null || !services.config.passwordless.signup) return found?.row ?? null;
  const made = await insertUser(services.db, { email, username: null, name: null, passwordHash: null, emailVerified: false });
  // Made by a racing request meanwhile: that one is the account.
  if (made === "email_taken" || made === "username_taken") return (await findSignInUser(services.db, email))?.row ?? null;
  return made;
}

/** A code's hash, bound to its account (a code is only ever compared within it). */
function codeHash(userId: string, code: string): Promise<string> {
  return sha256(`${userId}:${code}`);
}

/** Six uniformly random digits (rejection sampling: no modulo bias). */
function sixDigits(): string {
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
