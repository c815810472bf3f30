// The session and CSRF cookies. With SESSION_SECURE_COOKIES=true they take the
// __Host- prefix (Secure, Path=/, no Domain), which stops a sibling subdomain from
// planting or overwriting them. Attributes are identical on every issue and clear.
import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { Config } from "../config/config";
import type { HttpEnv } from "./http-env";

export interface CookieNames {
  session: string;
  csrf: string;
}

export function cookieNames(config: Config): CookieNames {
  return config.cookies.secure
    ? { session: "__Host-session_id", csrf: "__Host-csrf_token" }
    : { session: "session_id", csrf: "csrf_token" };
}

function baseOptions(config: Config): CookieOptions {
  const sameSite = ({ lax: "Lax", strict: "Strict", none: "None" } as const)[config.cookies.sameSite];
  return {
    path: "/",
    secure: config.cookies.secure,
    sameSite,
    // CHIPS: cross-site front ends only get their cookies where third-party cookies are partitioned.
    partitioned: config.cookies.sameSite === "none" ? true : undefined,
  };
}

/** The session cookie is HttpOnly; the CSRF cookie is readable by same-origin page script. */
export function setSessionCookies<E extends HttpEnv>(c: Context<E>, token: string, csrfToken: string, maxAgeSeconds: number): void {
  const config = c.get("config");
  const names = cookieNames(config);
  setCookie(c, names.session, token, { ...baseOptions(config), httpOnly: true, maxAge: maxAgeSeconds });
  setCookie(c, names.csrf, csrfToken, { ...baseOptions(config), httpOnly: false, maxAge: maxAgeSeconds });
}

export function setCsrfCookie<E extends HttpEnv>(c: Context<E>, csrfToken: string, maxAgeSeconds: number): void {
  const config = c.get("config");
  setCookie(c, cookieNames(config).csrf, csrfToken, { ...baseOptions(config), httpOnly: false, maxAge: maxAgeSeconds });
}

export function clearSessionCookies<E extends HttpEnv>(c: Context<E>): void {
  const config = c.get("config");
  const names = cookieNames(config);
  deleteCookie(c, names.session, { ...baseOptions(config), httpOnly: true });
  deleteCookie(c, names.csrf, { ...baseOptions(config), httpOnly: false });
}

/** The OAuth redirect's MFA challenge: the mfa_token, HttpOnly, for POST /auth/mfa/* only, 5 minutes. */
export function mfaCookieName(config: Config): string {
  return config.cookies.secure ? "__Secure-mfa_token" : "mfa_token";
}

const MFA_COOKIE_PATH = "/api/v1/auth/mfa";

export function setMfaCookie<E extends HttpEnv>(c: Context<E>, mfaToken: string): void {
  const config = c.get("config");
  setCookie(c, mfaCookieName(config), mfaToken, { ...baseOptions(config), path: MFA_COOKIE_PATH, httpOnly: true, maxAge: 300 });
}

export function clearMfaCookie<E extends HttpEnv>(c: Context<E>): void {
  const config = c.get("config");
  deleteCookie(c, mfaCookieName(config), { ...baseOptions(config), path: MFA_COOKIE_PATH, httpOnly: true });
}
