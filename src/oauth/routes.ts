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
import { forgetPrincipal } from "../tokens/principal-cache";
import { publicUser } from "../users/user-store";
import { issueAppCode } from "./app-codes";
import type { ClientCredentials } from "./arctic";
import { clearBindingCookie, readBindingCookie, setBindingCookie } from "./binding-cookie";
import { resolveOAuthUser } from "./oauth-accounts";
import { providerFor } from "./providers";
import { OAuthFailure, type OAuthProvider } from "./providers/provider";
import { isAllowedAppRedirect, resolveRedirectTo, withParams } from "./redirects";
import { callbackQuery, startQuery } from "./schemas";
import { type PendingLogin, savePendingLogin, takePendingLogin } from "./state-store";

export const oauthRoutes = new Hono<AppEnv>();

function configured(c: Context<AppEnv>, name: string): { provider: OAuthProvider; client: ClientCredentials } {
  const settings = c.get("config").oauth.providers[name];
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
  const db = database(c.env.DB);
  const resolution = await resolveOAuthUser(db, name, identity, pending.linkUserId);
  if (resolution.status === "account_exists") return fail("email_in_use", "account_exists");
  if (resolution.status === "failed") return fail(resolution.reason);

  const user = await publicUser(db, resolution.user);
  if (resolution.status !== "existing") {
    await c.env.USER_AUTHORITY.getByName(user.id).updateUser(user);
    forgetPrincipal(user.id);
    recordEventLater(c, user.id, "oauth_linked", { provider: name, new_account: resolution.status === "created" });
  }

  if (pending.app !== null) {
    const code = await issueAppCode(c.env.DB, { userId: user.id, redirectUri: pending.app.redirectUri, codeChallenge: pending.app.codeChallenge });
    const params: Record<string, string> = { code };
    if (pending.app.state !== null) params.state = pending.app.state;
    return c.redirect(withParams(pending.app.redirectUri, params), 302);
  }

  const started = await startSession(sessionDeps(c), user, clientInfo(c.req.raw), { rememberMe: false });
  setSessionCookies(c, started.token, started.csrfToken, started.maxAgeSeconds);
  recordLoginSuccess(c, user, { kind: "cookie", method: `oauth:${name}`, newDevice: started.newDevice });
  if (pending.mode === "json") return c.json({ user, csrf_token: started.csrfToken, is_new_user: resolution.status === "created" });
  return c.redirect(pending.redirectTo, 302);
});

oauthRoutes.get("/:provider", authenticate({ optional: true }), async (c) => {
  const name = c.req.param("provider");
  const { provider, client } = configured(c, name);
  const query = parseInput(startQuery, c.req.query());
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
  let linkUserId: string | null = null;
  if (query.link === "true") {
    if (c.get("principal") === undefined) throw new ApiError("not_authenticated", "Sign in first to link a provider");
    linkUserId = userPrincipal(c).userId;
  }

  const state = randomToken(32);
  const binding = randomToken(32);
  const pending: PendingLogin = {
    provider: name,
    bindingHash: await sha256(binding),
    codeVerifier: randomToken(32),
    nonce: randomToken(32),
    redirectTo,
    mode: query.mode,
    linkUserId,
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
  if (query.mode === "json") return c.json({ url: url.href });
  return c.redirect(url.href, 302);
});

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
