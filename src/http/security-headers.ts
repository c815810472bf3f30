import type { Config } from "../config/config";

/** Set on every response. No API response may be cached: most carry or depend on a credential. */
const ALWAYS: ReadonlyArray<readonly [string, string]> = [
  ["X-Content-Type-Options", "nosniff"],
  ["X-Frame-Options", "DENY"],
  ["Referrer-Policy", "no-referrer"],
  ["Cross-Origin-Resource-Policy", "same-site"],
];
/** Set unless the route chose its own (the docs page, the JWKS). */
const DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  ["Cache-Control", "no-store"],
  ["Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"],
];

/** Safe defaults on a response; HSTS when cookies are secure (the service is on HTTPS). */
export function applySecurityHeaders(headers: Headers, config: Config | undefined): void {
  for (const [name, value] of ALWAYS) headers.set(name, value);
  for (const [name, value] of DEFAULTS) if (!headers.has(name)) headers.set(name, value);
  if (config?.cookies.secure) headers.set("Strict-Transport-Security", "max-age=31536000");
}
