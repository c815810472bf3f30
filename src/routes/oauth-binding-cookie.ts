// The cookie that binds an OAuth `state` to the browser that started the login, so a
// state (and code) captured elsewhere cannot finish a login in another browser.
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { AppEnv } from "../auth/app-env";
import { STATE_LIFETIME_MS } from "../oauth/state-store";

function name(c: Context<AppEnv>): string {
  return c.get("config").cookies.secure ? "__Host-oauth_binding" : "oauth_binding";
}

function options(c: Context<AppEnv>): CookieOptions {
  const { secure, sameSite } = c.get("config").cookies;
  // Lax (not Strict): the provider sends the browser back with a cross-site navigation.
  return sameSite === "none"
    ? { path: "/", httpOnly: true, secure, sameSite: "None", partitioned: true }
    : { path: "/", httpOnly: true, secure, sameSite: "Lax" };
}

export function setBindingCookie(c: Context<AppEnv>, value: string): void {
  setCookie(c, name(c), value, { ...options(c), maxAge: Math.floor(STATE_LIFETIME_MS / 1000) });
}

export function readBindingCookie(c: Context<AppEnv>): string | undefined {
  return getCookie(c, name(c));
}

export function clearBindingCookie(c: Context<AppEnv>): void {
  deleteCookie(c, name(c), options(c));
}
