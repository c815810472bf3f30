// The passwordless routes (contract v1.2, "Passwordless sign-in and abuse defences"). See route-spec.ts.
import { z } from "zod";
import { emailCodeBody, emailCodeVerifyBody, magicLinkBody, magicLinkVerifyBody } from "../auth/schemas";
import * as out from "./response-schemas";
import type { RouteSpec } from "./route-spec";

/** A cookie sign-in's answer (with the link's redirect_to, when it was asked with one), or a token pair. */
const emailSignInResponse = z.union([out.loginResponse.extend({ redirect_to: z.string().optional() }), out.tokenResponse]);
const SIGN_IN_ERRORS = ["mfa_required", "account_disabled"] as const;
const challengeResponse = z.object({
  site_key: z.string().nullable(),
  routes: z.array(z.string()),
  login_after_failures: z.number().nullable(),
});

// One row per route reads as a table; the formatter would spread each over a dozen lines.
// prettier-ignore
export const PASSWORDLESS_ROUTES = [
  { method: "get", path: "/api/v1/auth/challenge", summary: "Turnstile for front ends: the widget's site key (null: none shown) and the routes that ask for a token", tag: "sessions", auth: [], ok: { status: 200, description: "The challenge's settings", schema: challengeResponse } },
  { method: "post", path: "/api/v1/auth/magic-link", summary: "Mail a single-use sign-in link (202 whether or not the address has an account)", tag: "sessions", auth: [], body: magicLinkBody, ok: { status: 202, description: "On its way, if the address has an account", schema: out.detailResponse }, errors: ["invalid_request", "too_many_attempts", "captcha_required", "captcha_failed", "service_unavailable"], example: { email: "ada@example.com", transport: "cookie" } },
  { method: "post", path: "/api/v1/auth/magic-link/verify", summary: "Sign in with a magic link's token (one factor: the MFA gate applies)", tag: "sessions", auth: [], body: magicLinkVerifyBody, ok: { status: 200, description: "Signed in: cookies and {user, csrf_token}, or a token pair (transport token)", schema: emailSignInResponse }, errors: ["invalid_token", "forbidden", ...SIGN_IN_ERRORS] },
  { method: "post", path: "/api/v1/auth/email-code", summary: "Mail a 6-digit sign-in code (202 whether or not the address has an account)", tag: "sessions", auth: [], body: emailCodeBody, ok: { status: 202, description: "On its way, if the address has an account", schema: out.detailResponse }, errors: ["too_many_attempts", "captcha_required", "captcha_failed", "service_unavailable"], example: { email: "ada@example.com" } },
  { method: "post", path: "/api/v1/auth/email-code/verify", summary: "Sign in with an email code (5 wrong entries end it; one factor: the MFA gate applies)", tag: "sessions", auth: [], body: emailCodeVerifyBody, ok: { status: 200, description: "Signed in: cookies and {user, csrf_token}, or a token pair (transport token)", schema: emailSignInResponse }, errors: ["invalid_credentials", "too_many_attempts", ...SIGN_IN_ERRORS], example: { email: "ada@example.com", code: "123456" } },
] as const satisfies readonly RouteSpec[];
