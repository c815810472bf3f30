// Cookies that bind something started in a browser to that browser: an OAuth `state`
// (a state and code captured elsewhere cannot finish a login in another browser), and a
// magic link asked for with MAGIC_LINK_SAME_BROWSER (opened elsewhere, it signs nobody in).
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { AppEnv } from "../auth/app-env";

export type BindingPurpose = "oauth" | "magic_link";

function name(c: Context<AppEnv>, purpose: BindingPurpose): string {
  const base = purpose === "oauth" ? "oauth_binding" : "magic_link_binding";
  return c.get("config").cookies.secure ? `__Host-${base}` : base;
}

function options(c: Context<AppEnv>): CookieOptions {
  const { secure, sameSite } = c.get("config").cookies;
  // Lax (not Strict): the provider, or the mail client, sends the browser back with a cross-site navigation.
  return sameSite === "none"
    ? { path: "/", httpOnly: true, secure, sameSite: "None", partitioned: true }
    : { path: "/", httpOnly: true, secure, sameSite: "Lax" };
}

export function setBindingCookie(c: Context<AppEnv>, purpose: BindingPurpose, value: string, lifetimeMs: number): void {
  setCookie(c, name(c, purpose), value, { ...options(c), maxAge: Math.floor(lifetimeMs / 1000) });
}

export function readBindingCookie(c: Context<AppEnv>, purpose: BindingPurpose): string | undefined {
  return getCookie(c, name(c, purpose));
}

export function clearBindingCookie(c: Context<AppEnv>, purpose: BindingPurpose): void {
  deleteCookie(c, name(c, purpose), options(c));
}
