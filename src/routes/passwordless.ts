// Passwordless sign-in by mail (contract: "Passwordless sign-in and abuse defences"): ask
// for a magic link or a 6-digit code (202 always: the answer never says whether the
// address has an account), then use it for the login answer. auth/email-sign-in.ts does
// the work; the user's authority decides each use.
import { type Context, Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { type EmailSignInResult, newBrowserBinding, requestEmailSignIn, signInWithCode, signInWithLink } from "../account/email-sign-in";
import { emailCodeBody, emailCodeVerifyBody, magicLinkBody, magicLinkVerifyBody } from "../auth/schemas";
import { mfaRequired } from "../auth/second-factor";
import { turnstile } from "../auth/turnstile-guard";
import { limitPerIp } from "../account/registration";
import { parseBody } from "../http/body";
import { clientInfo } from "../http/client-info";
import { setSessionCookies } from "../http/cookies";
import { ApiError, accountDisabled, tooManyAttempts } from "../http/errors";
import { sha256 } from "../lib/crypto";
import { resolveRedirectTo } from "../oauth/redirects";
import { readBindingCookie, setBindingCookie } from "./binding-cookie";

export const passwordlessRoutes = new Hono<AppEnv>();

const ON_ITS_WAY = "If an account has this address, it is on its way";

/** What the service's pages (and any front end) need to show Turnstile's widget: its site key, and where it is asked for. */
passwordlessRoutes.get("/challenge", (c) => {
  const { turnstile: settings } = c.get("config");
  const on = settings.secretKey !== null;
  return c.json({
    site_key: on ? settings.siteKey : null,
    routes: on ? [...settings.routes] : [],
    login_after_failures: on ? settings.loginAfterFailures : null,
  });
});

passwordlessRoutes.post("/magic-link", turnstile("magic_link"), async (c) => {
  const input = parseBody(c, magicLinkBody);
  const services = c.get("services");
  const { config } = services;
  const redirectTo = input.redirect_to === undefined ? null : resolveRedirectTo(config, services.appBase, input.redirect_to);
  if (input.redirect_to !== undefined && redirectTo === null) throw new ApiError("invalid_request", "redirect_to is not an allowed target");
  // Every request is a mail: within the client IP's hourly budget, as a reset request is.
  await limitPerIp(services);
  const transport = input.transport ?? "cookie";
  let browserHash: string | null = null;
  if (transport === "cookie" && config.passwordless.sameBrowser) {
    // The browser's binding stays the same across requests: a link asked for earlier still works here.
    const binding = readBindingCookie(c, "magic_link") ?? newBrowserBinding();
    setBindingCookie(c, "magic_link", binding, config.passwordless.linkTtlMs);
    browserHash = await sha256(binding);
  }
  requestEmailSignIn(services, { kind: "link", email: input.email, transport, redirectTo, browserHash });
  return c.json({ detail: ON_ITS_WAY }, 202);
});

passwordlessRoutes.post("/magic-link/verify", async (c) => {
  const { token } = parseBody(c, magicLinkVerifyBody);
  const binding = readBindingCookie(c, "magic_link");
  const browserHash = binding === undefined ? null : await sha256(binding);
  return answer(c, await signInWithLink(c.get("services"), clientInfo(c.req.raw), token, browserHash), "link");
});

passwordlessRoutes.post("/email-code", turnstile("email_code"), async (c) => {
  const { email } = parseBody(c, emailCodeBody);
  const services = c.get("services");
  await limitPerIp(services);
  requestEmailSignIn(services, { kind: "code", email, transport: "cookie", redirectTo: null, browserHash: null });
  return c.json({ detail: ON_ITS_WAY }, 202);
});

passwordlessRoutes.post("/email-code/verify", async (c) => {
  const input = parseBody(c, emailCodeVerifyBody);
  const transport = input.transport ?? "cookie";
  const result = await signInWithCode(c.get("services"), clientInfo(c.req.raw), { email: input.email, code: input.code, transport });
  return answer(c, result, "code");
});

/** The login answer (cookies and `{user, csrf_token}`, or a token pair), or the refusal. */
function answer(c: Context<AppEnv>, result: EmailSignInResult, kind: "link" | "code"): Response {
  switch (result.status) {
    case "invalid":
      throw kind === "link"
        ? new ApiError("invalid_token", "This link is invalid, expired or already used")
        : new ApiError("invalid_credentials", "The code is wrong, expired or already used");
    case "throttled":
      throw tooManyAttempts("failed_sign_ins", result.retryAfterSeconds);
    case "other_browser":
      throw new ApiError("forbidden", "Open this link in the browser where you asked for it");
    case "disabled":
      throw accountDisabled();
    case "mfa_required":
      throw mfaRequired(result);
    case "cookie":
      setSessionCookies(c, result.token, result.csrfToken, result.maxAgeSeconds);
      return c.json({
        user: result.user,
        csrf_token: result.csrfToken,
        ...(result.redirectTo === null ? {} : { redirect_to: result.redirectTo }),
      });
    case "token":
      c.header("Cache-Control", "no-store");
      return c.json(result.response);
  }
}
