// Passwordless sign-in by mail, the Worker's half: asking for a magic link or an email
// code (mailed in the background, so the answer never tells whether the address has an
// account), and using one, which the user's authority decides (user-authority/email-sign-ins.ts):
// one factor (`amr: ["email"]`), under the MFA gate, opening a cookie session or a token family.
export { type EmailSignInResult, newBrowserBinding } from "./email-sign-in-parts";
import { uniqueViolation } from "../db/unique-conflict";
import { activeKeyIds } from "../api-keys/key-store";
import type { UserRow } from "../db/schema";
import type { ClientInfo } from "../http/client-info";
import { sha256 } from "../lib/crypto";
import { logError } from "../lib/log";
import { deliver } from "../mail/mailer";
import { emailCodeMessage, magicLinkMessage } from "../mail/templates";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import { createSessionToken, userIdOfSession } from "../sessions/session-token";
import type { EmailProof, EmailSignIn } from "../user-authority/email-sign-ins";
import type { SignInKind } from "../user-authority/types";
import { canonicalEmail } from "../lib/email-address";
import { normalizeEmail } from "../users/schemas";
import {
  type EmailSignInResult,
  codeHash,
  openedAnswer,
  recordSignInProof,
  sessionInput,
  signUpIds,
  sixDigits,
} from "./email-sign-in-parts";
import { MAX_TOKENS_PER_HOUR } from "./mail-tokens";
import { findSignInUser, findSignInUserById, insertUser } from "../users/user-store";
import { besideIpSlot, judged } from "../throttle/login-guard";
import { type PublicUser, toPublicUser } from "../users/user-view";
import { recordLoginSuccess } from "../auth/login-outcome";

export type EmailSignInKind = "link" | "code";

/** A magic link's token: the transport (`c` cookie, `t` token), then a session-token-shaped id and secret. */
const LINK_TOKEN = /^([ct])([0-9a-f]{48})\.([A-Za-z0-9_-]{43})$/;
const CODE = /^\d{6}$/;

/**
 * Mails a link or a code to the account with this address; with PASSWORDLESS_SIGNUP and no
 * account, to the address, kept under the account id its sign-up would get (the account
 * is made when it is used: takeSignUp). Runs after the answer.
 */
export function requestEmailSignIn(
  services: Services,
  input: { kind: EmailSignInKind; email: string; transport: SignInKind; redirectTo: string | null; browserHash: string | null },
): void {
  services.waitUntil(
    (async () => {
      const recipient = await recipientFor(services, input.email);
      if (recipient === null) return;
      const authority = authorityFor(services.authority, recipient.id);
      const purpose = input.kind === "link" ? "magic_link" : "email_code";
      const slot = await authority.takeMailSlot(purpose, recipient.emailNormalized, MAX_TOKENS_PER_HOUR);
      if (slot.status !== "allowed") return;
      const { passwordless } = services.config;
      if (input.kind === "link") {
        const token = await createSessionToken(recipient.id);
        const kept = await authority.issueEmailSignIn({
          kind: "link",
          id: token.id,
          secretHash: token.secretHash,
          signUp: recipient.signUp,
          email: recipient.emailNormalized,
          expiresAt: Date.now() + passwordless.linkTtlMs,
          transport: input.transport,
          browserHash: input.browserHash,
          redirectTo: input.redirectTo,
        });
        const link = `${services.appBase}/magic-link?token=${input.transport === "token" ? "t" : "c"}${token.token}`;
        if (kept) await deliver(services.mailer, magicLinkMessage(recipient.email, link, passwordless.linkTtlMs / 60_000));
        return;
      }
      const code = sixDigits();
      const kept = await authority.issueEmailSignIn({
        kind: "code",
        id: "code",
        secretHash: await codeHash(recipient.id, code),
        signUp: recipient.signUp,
        email: recipient.emailNormalized,
        expiresAt: Date.now() + passwordless.codeTtlMs,
        transport: input.transport,
        browserHash: null,
        redirectTo: null,
      });
      if (kept) await deliver(services.mailer, emailCodeMessage(recipient.email, code, passwordless.codeTtlMs / 60_000));
    })().catch((error: unknown) => logError("email_sign_in_request_failed", error)),
  );
}

/** Who a link or code goes to: the account with the address, or (PASSWORDLESS_SIGNUP) its sign-up's id. */
async function recipientFor(
  services: Services,
  email: string,
): Promise<{ id: string; email: string; emailNormalized: string; signUp: boolean } | null> {
  const found = await findSignInUser(services.db, email);
  if (found !== null) {
    const { row } = found;
    return row.disabled ? null : { id: row.id, email: row.email, emailNormalized: row.emailNormalized, signUp: false };
  }
  if (!services.config.passwordless.signup) return null;
  const emailNormalized = normalizeEmail(email);
  const [id] = (await signUpIds(services.config.secretKey, emailNormalized)) as [string];
  return { id, email: canonicalEmail(email), emailNormalized, signUp: true };
}

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
  const userId = userIdOfSession(id);
  const kind: SignInKind = transport === "t" ? "token" : "cookie";
  const found = await findSignInUserById(services.db, userId);
  const secretHash = await sha256(secret);
  if (found === null) {
    if (!services.config.passwordless.signup) return { status: "invalid" };
    const made = await signUp(services, client, userId, { kind: "link", id, secretHash, browserHash, email: "" }, kind, "magic_link");
    return made.status === "absent" ? { status: "invalid" } : made;
  }
  const proof: EmailProof = { kind: "link", id, secretHash, browserHash, email: found.row.emailNormalized };
  return useEmailSignIn(services, client, found, kind, proof, "magic_link");
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
  if (!CODE.test(code) || (found === null && !services.config.passwordless.signup)) {
    services.waitUntil(ip.settle("failed"));
    return { status: "invalid" };
  }
  const result = await judged(
    ip,
    services.waitUntil,
    found === null ? signUpWithCode(services, client, input) : useCode(services, client, found, input),
  );
  services.waitUntil(ip.settle(result.status === "invalid" ? "failed" : "released"));
  return result;
}

function useCode(
  services: Services,
  client: ClientInfo,
  found: { row: UserRow; providers: string[] },
  input: { code: string; transport: SignInKind },
): Promise<EmailSignInResult> {
  return codeHash(found.row.id, input.code).then((secretHash) =>
    useEmailSignIn(services, client, found, input.transport, { kind: "code", secretHash, email: found.row.emailNormalized }, "email_code"),
  );
}

/** PASSWORDLESS_SIGNUP: a code for an address with no account, kept under this hour's sign-up id or the last one's. */
async function signUpWithCode(
  services: Services,
  client: ClientInfo,
  input: { email: string; code: string; transport: SignInKind },
): Promise<EmailSignInResult> {
  const emailNormalized = normalizeEmail(input.email);
  for (const id of await signUpIds(services.config.secretKey, emailNormalized)) {
    const proof: EmailProof = { kind: "code", secretHash: await codeHash(id, input.code), email: emailNormalized };
    // The hour before is tried only when nothing is kept for this one: one entry, one guess.
    const result = await signUp(services, client, id, proof, input.transport, "email_code");
    if (result.status !== "absent") return result;
  }
  return { status: "invalid" };
}

/**
 * PASSWORDLESS_SIGNUP: the link or code is used up at the authority of the account it
 * would make (once, also under concurrency); the account is made verified with that id,
 * and its first session opened. An account made for the address meanwhile wins: nothing opens.
 */
async function signUp(
  services: Services,
  client: ClientInfo,
  id: string,
  proof: EmailProof,
  kind: SignInKind,
  method: "magic_link" | "email_code",
): Promise<EmailSignInResult | { status: "absent" }> {
  const authority = authorityFor(services.authority, id);
  const taken = await authority.takeSignUp(proof, kind);
  if (taken.status !== "sign_up") return { status: taken.status };
  let made: Awaited<ReturnType<typeof insertUser>>;
  try {
    made = await insertUser(services.db, {
      id,
      email: taken.email,
      username: null,
      name: null,
      passwordHash: null,
      emailVerified: true,
      addressProven: true,
      // Proven by its first use: an ADMIN_EMAILS address is an admin from the start, as after any proof.
      isSuperuser: services.config.admin.emails.includes(taken.email),
    });
  } catch (error) {
    // An account with this id already (an earlier sign-up whose session did not open): not this one's.
    if (uniqueViolation(error) !== null) return { status: "invalid" };
    throw error;
  }
  if (made === "email_taken" || made === "username_taken") return { status: "invalid" };
  const user = toPublicUser(made);
  const opening = await sessionInput(services, client, user, { kind, credentialEpoch: made.credentialEpoch, method });
  const created = await authority.createSession(opening.input, services.config.sessions.maxPerUser);
  if (created.status !== "created") return { status: "invalid" };
  recordLoginSuccess(services, user, { kind, method, newDevice: false });
  return openedAnswer(services, opening, user, { assurance: created.assurance, redirectTo: taken.redirectTo });
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
  return openedAnswer(services, opening, signedIn, used);
}
