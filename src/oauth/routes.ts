// OAuth login: start (redirect to the provider) and callback (sign in, then redirect to
// the app, answer JSON, or hand a mobile app a one-time code).
import { type Context, Hono } from "hono";
import { authenticate, sessionDeps, userPrincipal } from "../auth/authenticate";
import { recordLoginSuccess } from "../auth/login-outcome";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { recordEventLater } from "../events/event-log";
import { parseInput } from "../http/body";
import { clientInfo } from "../http/client-info";
import { setSessionCookies } from "../http/cookies";
import { ApiError } from "../http/errors";
import { constantTimeEqual, randomToken, sha256 } from "../lib/crypto";
import { startSession } from "../sessions/session-service";
import { authorityFor } from "../sessions/authority-client";
import { findUserById, publicUser } from "../users/user-store";
import { issueAppCode } from "./app-codes";
import type { ClientCredentials } from "./arctic";
import { clearBindingCookie, readBindingCookie, setBindingCookie } from "./binding-cookie";
import { resolveOAuthUser, unlinkProvider } from "./oauth-accounts";
import { providerFor } from "./providers";
import { OAuthFailure, type OAuthProvider } from "./providers/provider";
import { isAllowedAppRedirect, resolveRedirectTo, withParams } from "./redirects";
import { type StartQuery, callbackQuery, startQuery } from "./schemas";
import { type PendingLogin, savePendingLogin, takePendingLogin } from "./state-store";

export const oauthRoutes = new Hono<AppEnv>();

function configured(c: Context<AppEnv>, name: string): { provider: OAuthProvider; client: ClientCredentials } {
  const settings = c.get("config").oauth.providers.get(name);
  if (settings === undefined) throw new ApiError("provider_not_configured", `OAuth provider "${name}" is not configured`);
  const base = c.get("config").oauth.redirectBaseUrl ?? new URL(c.req.url).origin;
  return {
    provider: providerFor(settings),
    client: {
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      redirectUri: `${base}/api/v1/auth/oauth/callback/${name}`,
    },
  };
}

function appBase(c: Context<AppEnv>): string {
  return c.get("config").appBaseUrl ?? new URL(c.req.url).origin;
}

oauthRoutes.get("/callback/:provider", async (c) => {
  const name = c.req.param("provider");
  const { provider, client } = configured(c, name);
  const query = parseInput(callbackQuery, c.req.query());
  const pending = query.state === undefined ? null : await takePendingLogin(c.env.DB, query.state);
  if (pending === null || pending.provider !== name) {
    // No trusted place to send the browser: the state is unknown, used or forged.
    throw new ApiError("oauth_failed", "Invalid or already used OAuth state; start the login again");
  }
  const binding = readBindingCookie(c);
  clearBindingCookie(c);
  const fail = (reason: string, code: "oauth_failed" | "account_exists" = "oauth_failed"): Response => failure(c, pending, code, reason);
  if (pending.expired) return fail("state_expired");
  if (binding === undefined || !constantTimeEqual(await sha256(binding), pending.bindingHash)) return fail("state_mismatch");
  if (query.error !== undefined) return fail(/^[a-z_]{1,64}$/.test(query.error) ? query.error : "provider_error");
  if (query.code === undefined) return fail("missing_code");

  let identity;
  try {
    identity = await provider.identify(client, query.code, { codeVerifier: pending.codeVerifier, nonce: pending.nonce });
  } catch (error) {
    if (error instanceof OAuthFailure) return fail(error.reason);
    throw error;
  }
  // A link is decided now, by the user's authority: only while the session that asked
  // for it still stands (not logged out, not ended by logout-all or a password reset).
  if (pending.link !== null && !(await authorityFor(c.env.USER_AUTHORITY, pending.link.userId).hasSession(pending.link.sessionId))) {
    return fail("session_ended");
  }
  const db = database(c.env.DB);
  const resolution = await resolveOAuthUser(db, name, identity, pending.link?.userId ?? null);
  if (resolution.status === "account_exists") return fail("email_in_use", "account_exists");
  if (resolution.status === "failed") return fail(resolution.reason);

  const user = await publicUser(db, resolution.user);
  if (resolution.status !== "existing") {
    await authorityFor(c.env.USER_AUTHORITY, user.id).updateUser(user);
    recordEventLater(c, user.id, "oauth_linked", { provider: name, new_account: resolution.status === "created" });
  }

  if (pending.app !== null) {
    const code = await issueAppCode(c.env.DB, { userId: user.id, redirectUri: pending.app.redirectUri, codeChallenge: pending.app.codeChallenge });
    const params: Record<string, string> = { code };
    if (pending.app.state !== null) params.state = pending.app.state;
    return c.redirect(withParams(pending.app.redirectUri, params), 302);
  }

  const started = await startSession(sessionDeps(c), user, clientInfo(c.req.raw), {
    rememberMe: false,
    credentialEpoch: resolution.user.credentialEpoch,
  });
  if (started === null) return fail("account_missing");
  setSessionCookies(c, started.token, started.csrfToken, started.maxAgeSeconds);
  recordLoginSuccess(c, user, { kind: "cookie", method: `oauth:${name}`, newDevice: started.newDevice });
  if (pending.mode === "json") return c.json({ user, csrf_token: started.csrfToken, is_new_user: resolution.status === "created" });
  return c.redirect(pending.redirectTo, 302);
});

oauthRoutes.get("/:provider", async (c) => {
  const query = parseInput(startQuery, c.req.query());
  if (query.link !== undefined) {
    throw new ApiError("invalid_request", "Link a provider with POST /api/v1/auth/oauth/{provider}/link while signed in");
  }
  return startLogin(c, query, null);
});

/** A signed-in user adds a provider identity: the callback links it if this session still stands. */
oauthRoutes.post("/:provider/link", authenticate(), async (c) => {
  const principal = userPrincipal(c);
  const query = parseInput(startQuery, c.req.query());
  return startLogin(c, { ...query, client: "web" }, { userId: principal.userId, sessionId: principal.session.id });
});

/** Unlinks a provider; refused when it is the account's only way to sign in. */
oauthRoutes.delete("/:provider", authenticate(), async (c) => {
  const principal = userPrincipal(c);
  const name = c.req.param("provider");
  const result = await unlinkProvider(database(c.env.DB), principal.userId, name);
  if (result === "not_linked") throw new ApiError("not_found", "This provider is not linked to your account");
  if (result === "last_method") {
    throw new ApiError("invalid_request", "This is your only way to sign in: set a password or link another provider first", { status: 422 });
  }
  const row = await findUserById(database(c.env.DB), principal.userId);
  if (row !== null) await authorityFor(c.env.USER_AUTHORITY, row.id).updateUser(await publicUser(database(c.env.DB), row));
  recordEventLater(c, principal.userId, "oauth_unlinked", { provider: name });
  return c.body(null, 204);
});

/**
 * Starts a provider login (or link): validates where it ends, saves the pending state
 * bound to this browser, and sends the browser (or the JSON caller) to the provider.
 * A link answers `{url}` whatever the mode: it is started by a POST from page script.
 */
async function startLogin(
  c: Context<AppEnv>,
  query: StartQuery,
  link: PendingLogin["link"],
): Promise<Response> {
  const name = c.req.param("provider") ?? "";
  const { provider, client } = configured(c, name);
  const config = c.get("config");

  const redirectTo = resolveRedirectTo(config, appBase(c), query.redirect_to);
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
  const pending: PendingLogin = {
    provider: name,
    bindingHash: await sha256(binding),
    codeVerifier: randomToken(32),
    nonce: randomToken(32),
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
    if (error instanceof OAuthFailure) throw new ApiError("oauth_failed", `The provider is unavailable (${error.reason})`, { status: 502 });
    throw error;
  }
  await savePendingLogin(c.env.DB, state, pending);
  setBindingCookie(c, binding);
  if (query.mode === "json" || link !== null) return c.json({ url: url.href });
  return c.redirect(url.href, 302);
}

/** Errors after the start go back where the login was meant to end, or as JSON. */
function failure(c: Context<AppEnv>, pending: PendingLogin, code: "oauth_failed" | "account_exists", reason: string): Response {
  if (pending.app !== null) {
    const params: Record<string, string> = { error: code, reason };
    if (pending.app.state !== null) params.state = pending.app.state;
    return c.redirect(withParams(pending.app.redirectUri, params), 302);
  }
  if (pending.mode === "json") {
    const error = new ApiError(code, code === "account_exists" ? "An account with this email already exists; sign in and link the provider" : `OAuth login failed: ${reason}`);
    return c.json({ ...error.toJSON(), reason }, error.status);
  }
  return c.redirect(withParams(pending.redirectTo, { error: code, reason }), 302);
}
