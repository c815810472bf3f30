// OAuth sign-in as the service does it, apart from HTTP: start a provider login (or a
// link) and finish it at the callback (which user, a session or a one-time app code;
// app-code-sign-in.ts redeems that code). The routes (routes/oauth.ts) only move cookies
// and map these results to responses.
import { recordEventLater } from "../events/event-log";
import type { ClientInfo } from "../http/client-info";
import { ApiError } from "../http/errors";
import { constantTimeEqual, randomToken, sha256 } from "../lib/crypto";
import { issueAppCode } from "../oauth/app-codes";
import type { ClientCredentials } from "../oauth/arctic";
import { dropLink, findLinkedAccount, resolveOAuthUser, unlinkProvider } from "../oauth/oauth-accounts";
import { providerFor } from "../oauth/providers";
import { OAuthFailure, type OAuthProvider, identifySettled } from "../oauth/providers/provider";
import { isAllowedAppRedirect, resolveRedirectTo, withParams } from "../oauth/redirects";
import type { CallbackQuery, StartQuery } from "../oauth/schemas";
import { type PendingLogin, loginSecrets, savePendingLogin, takePendingLogin } from "../oauth/state-store";
import type { Services } from "../services/services";
import { authorityFor } from "../sessions/authority-client";
import { type MfaRequired, type StartedSession, startSession } from "../sessions/session-service";
import { findUserById, publicUser } from "../users/user-store";
import { type PublicUser, toPublicUser } from "../users/user-view";
import { recordLoginSuccess } from "./login-outcome";
import { claimAccount } from "./provider-claim";

/** A state or binding secret as startOAuth makes them: 32 random bytes, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function configured(services: Services, name: string): { provider: OAuthProvider; client: ClientCredentials } {
  const settings = services.config.oauth.providers.get(name);
  if (settings === undefined) throw new ApiError("provider_not_configured", `OAuth provider "${name}" is not configured`);
  return {
    provider: providerFor(settings),
    client: {
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      redirectUri: `${services.origin}/api/v1/auth/oauth/callback/${name}`,
    },
  };
}

/** Where to send the browser, and the secret the binding cookie must carry back. */
export interface StartedLogin {
  url: string;
  binding: string;
  /** A link answers `{url}` whatever the mode: it is started by a POST from page script. */
  answer: "json" | "redirect";
}

/**
 * Starts a provider login (or link): validates where it ends, saves the pending state
 * bound to this browser, and returns the provider's authorization URL.
 */
export async function startOAuth(services: Services, name: string, query: StartQuery, link: PendingLogin["link"]): Promise<StartedLogin> {
  const { provider, client } = configured(services, name);
  const { config } = services;
  const redirectTo = resolveRedirectTo(config, services.appBase, query.redirect_to);
  if (redirectTo === null) {
    throw new ApiError("invalid_request", "redirect_to must be a relative path or an allowed origin");
  }
  let app: PendingLogin["app"] = null;
  if (query.client === "mobile") {
    if (query.redirect_uri === undefined || !isAllowedAppRedirect(config, query.redirect_uri)) {
      throw new ApiError("invalid_request", "redirect_uri must be listed exactly in OAUTH_ALLOWED_REDIRECTS");
    }
    if (query.code_challenge === undefined) throw new ApiError("invalid_request", "A mobile login needs code_challenge (S256)");
    app = { redirectUri: query.redirect_uri, codeChallenge: query.code_challenge, state: query.app_state ?? null };
  }

  const state = randomToken(32);
  const binding = randomToken(32);
  const secrets = await loginSecrets(config.secretKey, state, binding);
  const pending: PendingLogin = {
    provider: name,
    bindingHash: await sha256(binding),
    codeVerifier: secrets.codeVerifier,
    nonce: secrets.nonce,
    redirectTo,
    // Where the callback lands: for a link too, a redirect unless the caller asked for JSON.
    mode: query.mode,
    link,
    app,
  };
  let url: URL;
  try {
    url = await provider.authorizationUrl(client, { state, codeVerifier: pending.codeVerifier, nonce: pending.nonce });
  } catch (error) {
    // The provider's discovery document could not be read: a dependency that failed.
    if (error instanceof OAuthFailure) throw new ApiError("service_unavailable", `The provider is unavailable (${error.reason})`);
    throw error;
  }
  await savePendingLogin(services.d1, state, pending);
  return { url: url.href, binding, answer: query.mode === "json" || link !== null ? "json" : "redirect" };
}

export type CallbackOutcome =
  /** A mobile login: back to the app with a one-time code. */
  | { kind: "app_code"; location: string }
  | { kind: "signed_in"; pending: PendingLogin; user: PublicUser; session: StartedSession; isNewUser: boolean }
  /** The user has a second factor: no session until POST /auth/mfa/verify. */
  | { kind: "mfa_required"; pending: PendingLogin; stopped: MfaRequired }
  | { kind: "failed"; pending: PendingLogin; code: "oauth_failed" | "account_exists" | "account_disabled"; reason: string };

/**
 * Finishes a provider login at the callback. `binding` is the binding cookie's value.
 * An unknown, used or forged state throws: there is no trusted place to send the browser.
 */
export async function finishOAuth(
  services: Services,
  client: ClientInfo,
  name: string,
  query: CallbackQuery,
  binding: string | undefined,
): Promise<CallbackOutcome> {
  const { provider, client: credentials } = configured(services, name);
  // The code is redeemed first, with the verifier and nonce derived from the state and the
  // binding cookie (loginSecrets); the state is then taken beside the account lookup, and
  // decides before anything is used: two round trips besides the provider's own calls.
  const { state, code } = query;
  // Only a well-formed state and binding secret get the provider called before the state is taken.
  const ready =
    state !== undefined &&
    binding !== undefined &&
    code !== undefined &&
    query.error === undefined &&
    TOKEN.test(state) &&
    TOKEN.test(binding);
  const secrets = ready ? await loginSecrets(services.config.secretKey, state, binding) : null;
  const identified = secrets === null || code === undefined ? null : await identifySettled(provider, credentials, code, secrets);
  const [pending, linked] = await Promise.all([
    query.state === undefined ? null : takePendingLogin(services.d1, query.state),
    identified === null || !("identity" in identified) ? null : findLinkedAccount(services.db, name, identified.identity.providerUserId),
  ]);
  if (pending === null || pending.provider !== name) {
    throw new ApiError("oauth_failed", "Invalid or already used OAuth state; start the login again");
  }
  const fail = (reason: string, code: "oauth_failed" | "account_exists" | "account_disabled" = "oauth_failed"): CallbackOutcome => ({
    kind: "failed",
    pending,
    code,
    reason,
  });
  if (pending.expired) return fail("state_expired");
  if (binding === undefined || !constantTimeEqual(await sha256(binding), pending.bindingHash)) return fail("state_mismatch");
  if (query.error !== undefined) return fail(/^[a-z_]{1,64}$/.test(query.error) ? query.error : "provider_error");
  if (identified === null) return fail("missing_code");
  // A login started by an earlier version has a random verifier: it cannot be finished.
  if (pending.codeVerifier !== secrets?.codeVerifier) return fail("state_mismatch");
  if (!("identity" in identified)) {
    const error = identified.failure;
    if (error instanceof OAuthFailure && error.unavailable)
      throw new ApiError("service_unavailable", `The provider is unavailable (${error.reason})`);
    if (error instanceof OAuthFailure) return fail(error.reason);
    throw error;
  }
  const { identity } = identified;
  // A link is decided now, by the user's authority: only while the session that asked
  // for it still stands (not logged out, not ended by logout-all or a password reset).
  if (pending.link !== null && !(await authorityFor(services.authority, pending.link.userId).hasSession(pending.link.sessionId))) {
    return fail("session_ended");
  }
  const linkUserId = pending.link?.userId ?? null;
  let resolution = await resolveOAuthUser(services.db, name, identity, linkUserId, linked, services.config.admin.emails);
  if (resolution.status === "account_exists") return fail("email_in_use", "account_exists");
  if (resolution.status === "failed") return fail(resolution.reason);
  if (resolution.status === "claim") {
    const claim = await claimAccount(services, resolution.user, name, identity);
    if (claim.status === "disabled") return fail("account_disabled", "account_disabled");
    if (claim.status === "gone") return fail("account_missing");
    resolution = { status: "linked", user: claim.user };
  }
  // Asked again once the link exists: a logout, reset or proof of the address that ended
  // the session in between would otherwise miss a link written after it cleaned up.
  if (pending.link !== null && resolution.status === "linked") {
    if (!(await authorityFor(services.authority, pending.link.userId).hasSession(pending.link.sessionId))) {
      await dropLink(services.db, pending.link.userId, name, identity.providerUserId);
      return fail("session_ended");
    }
  }
  // When the credential this sign-in rests on was made: an older link (or now).
  const madeAt = resolution.status === "existing" ? resolution.linkedAt : Date.now();

  const user =
    resolution.status === "existing" ? toPublicUser(resolution.user, resolution.providers) : await publicUser(services.db, resolution.user);
  if (resolution.status !== "existing") {
    await authorityFor(services.authority, user.id).updateUser(user);
    recordEventLater(services, user.id, "oauth_linked", { provider: name, new_account: resolution.status === "created" });
  }

  if (pending.app !== null) {
    const code = await issueAppCode(services.d1, {
      userId: user.id,
      redirectUri: pending.app.redirectUri,
      codeChallenge: pending.app.codeChallenge,
      madeAt,
    });
    const params: Record<string, string> = { code };
    if (pending.app.state !== null) params.state = pending.app.state;
    return { kind: "app_code", location: withParams(pending.app.redirectUri, params) };
  }

  const isNewUser = resolution.status === "created";
  const session = await startSession(services, user, client, {
    rememberMe: false,
    credentialEpoch: resolution.user.credentialEpoch,
    assurance: { aal: 1, amr: ["oauth"] },
    answer: { kind: "oauth", isNewUser, method: `oauth:${name}` },
    madeAt,
  });
  if (session === null) return fail("account_missing");
  // A disabled account: back to where the login was meant to end, like any failure.
  if (session.status === "disabled") return fail("account_disabled", "account_disabled");
  if (session.status === "mfa_required") return { kind: "mfa_required", pending, stopped: session };
  recordLoginSuccess(services, user, { kind: "cookie", method: `oauth:${name}`, newDevice: session.newDevice });
  return { kind: "signed_in", pending, user, session, isNewUser };
}

/** Where a failed callback goes: back to the app or the page it meant to end on (null: answer JSON). */
export function failureLocation(pending: PendingLogin, code: string, reason: string): string | null {
  if (pending.app !== null) {
    const params: Record<string, string> = { error: code, reason };
    if (pending.app.state !== null) params.state = pending.app.state;
    return withParams(pending.app.redirectUri, params);
  }
  if (pending.mode === "json") return null;
  return withParams(pending.redirectTo, { error: code, reason });
}

/** Unlinks a provider; refused when it is the account's only way to sign in. */
export async function unlinkOAuth(services: Services, userId: string, name: string): Promise<void> {
  const result = await unlinkProvider(services.db, userId, name);
  if (result === "not_linked") throw new ApiError("not_found", "This provider is not linked to your account");
  if (result === "last_method") {
    throw new ApiError("invalid_input", "This is your only way to sign in: set a password or link another provider first");
  }
  const row = await findUserById(services.db, userId);
  if (row !== null) await authorityFor(services.authority, row.id).updateUser(await publicUser(services.db, row));
  recordEventLater(services, userId, "oauth_unlinked", { provider: name });
}
