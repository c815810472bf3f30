// OAuth login over HTTP: start (redirect to the provider, or `{url}`), callback (a
// session cookie and a redirect or JSON, or a one-time code for a mobile app), link and
// unlink. What happens is decided in auth/oauth-sign-in.ts; this file moves cookies.
import { Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { authenticate, userPrincipal } from "../auth/authenticate";
import { fresh } from "../auth/fresh";
import { failureLocation, finishOAuth, startOAuth, unlinkOAuth } from "../auth/oauth-sign-in";
import { parseQuery } from "../http/body";
import { clientInfo } from "../http/client-info";
import { setMfaCookie, setSessionCookies } from "../http/cookies";
import { mfaRequired } from "../auth/second-factor";
import { withParams } from "../oauth/redirects";
import { ApiError } from "../http/errors";
import { callbackQuery, startQuery } from "../oauth/schemas";
import { clearBindingCookie, readBindingCookie, setBindingCookie } from "./binding-cookie";
import { STATE_LIFETIME_MS } from "../oauth/state-store";

export const oauthRoutes = new Hono<AppEnv>();

oauthRoutes.get("/callback/:provider", async (c) => {
  const query = parseQuery(c, callbackQuery);
  const binding = readBindingCookie(c, "oauth");
  const outcome = await finishOAuth(c.get("services"), clientInfo(c.req.raw), c.req.param("provider"), query, binding);
  clearBindingCookie(c, "oauth");
  switch (outcome.kind) {
    case "app_code":
      return c.redirect(outcome.location, 302);
    case "failed": {
      // Errors after the start go back where the login was meant to end, or as JSON.
      const location = failureLocation(outcome.pending, outcome.code, outcome.reason);
      if (location !== null) return c.redirect(location, 302);
      const detail =
        outcome.code === "account_exists"
          ? "An account with this email already exists; sign in and link the provider"
          : `OAuth login failed: ${outcome.reason}`;
      throw new ApiError(outcome.code, detail, { extra: { reason: outcome.reason } });
    }
    case "mfa_required": {
      // No session: the second factor comes first. A page gets the challenge in an HttpOnly cookie.
      if (outcome.pending.mode === "json") throw mfaRequired(outcome.stopped);
      setMfaCookie(c, outcome.stopped.mfaToken);
      return c.redirect(withParams(outcome.pending.redirectTo, { mfa_required: "true" }), 302);
    }
    case "signed_in": {
      const { session, user } = outcome;
      setSessionCookies(c, session.token, session.csrfToken, session.maxAgeSeconds);
      if (outcome.pending.mode === "json") return c.json({ user, csrf_token: session.csrfToken, is_new_user: outcome.isNewUser });
      return c.redirect(outcome.pending.redirectTo, 302);
    }
  }
});

/** The providers this deployment has turned on, for a sign-in page's buttons (an addition to the contract). */
oauthRoutes.get("/providers", (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json({ providers: [...c.get("config").oauth.providers.keys()].map((id) => ({ id })) });
});

oauthRoutes.get("/:provider", async (c) => {
  const query = parseQuery(c, startQuery);
  if (query.link !== undefined) {
    throw new ApiError("invalid_request", "Link a provider with POST /api/v1/auth/oauth/{provider}/link while signed in");
  }
  const started = await startOAuth(c.get("services"), c.req.param("provider"), query, null);
  setBindingCookie(c, "oauth", started.binding, STATE_LIFETIME_MS);
  return started.answer === "json" ? c.json({ url: started.url }) : c.redirect(started.url, 302);
});

/** A signed-in user adds a provider identity: the callback links it if this session still stands. */
oauthRoutes.post("/:provider/link", authenticate(), fresh(), async (c) => {
  const principal = userPrincipal(c);
  const query = parseQuery(c, startQuery);
  const link = { userId: principal.userId, sessionId: principal.session.id };
  const started = await startOAuth(c.get("services"), c.req.param("provider"), { ...query, client: "web" }, link);
  setBindingCookie(c, "oauth", started.binding, STATE_LIFETIME_MS);
  return c.json({ url: started.url });
});

/** Unlinks a provider; refused when it is the account's only way to sign in. */
oauthRoutes.delete("/:provider", authenticate(), fresh(), async (c) => {
  await unlinkOAuth(c.get("services"), userPrincipal(c).userId, c.req.param("provider"));
  return c.body(null, 204);
});
