// CORS with credentials for the origins in CORS_ORIGINS only. A foreign origin never
// gets Access-Control-Allow-Origin, so its pages cannot read any response.
import type { Config } from "../config/config";
import { ApiError } from "./errors";

const ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE";
const ALLOWED_HEADERS = "Content-Type, X-CSRF-Token, Authorization, X-API-Key, X-Request-Id";
const EXPOSED_HEADERS = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset";
const PREFLIGHT_MAX_AGE_SECONDS = "600";

export function isCorsOrigin(config: Config, origin: string | null): origin is string {
  return origin !== null && config.corsOrigins.includes(origin);
}

export function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("Access-Control-Request-Method");
}

/** The answer to a preflight: allowed origins only. */
export function preflightResponse(config: Config, origin: string | null): Response {
  if (!isCorsOrigin(config, origin)) throw new ApiError("forbidden", "Origin not allowed: add it to CORS_ORIGINS to call from it");
  return new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Credentials": "true",
      "Access-Control-Allow-Methods": ALLOWED_METHODS,
      "Access-Control-Allow-Headers": ALLOWED_HEADERS,
      "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_SECONDS,
      Vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    },
  });
}

/** What an allowed origin's answer carries besides Access-Control-Allow-Origin. */
const ALLOWED_ORIGIN: ReadonlyArray<readonly [string, string]> = [
  ["Access-Control-Allow-Credentials", "true"],
  ["Access-Control-Expose-Headers", EXPOSED_HEADERS],
];

/** The CORS headers of an actual response (a preflight already carries its own). */
export function applyCorsHeaders(headers: Headers, allowedOrigin: string | null): void {
  headers.append("Vary", "Origin");
  if (allowedOrigin === null) return;
  headers.set("Access-Control-Allow-Origin", allowedOrigin);
  for (const [name, value] of ALLOWED_ORIGIN) headers.set(name, value);
}

const NOT_ALLOWED: Readonly<Record<string, string>> = Object.freeze({ Vary: "Origin" });

/** applyCorsHeaders as one object, for an answer built whole with no Vary of its own (auth/memory-answer.ts). */
export function corsHeaders(config: Config, origin: string | null): Readonly<Record<string, string>> {
  if (!isCorsOrigin(config, origin)) return NOT_ALLOWED;
  return { Vary: "Origin", "Access-Control-Allow-Origin": origin, ...Object.fromEntries(ALLOWED_ORIGIN) };
}

/**
 * Endpoints any origin may call without credentials (the OAuth server's token,
 * registration, revocation and discovery endpoints: a browser app of any origin is a
 * public client). Their answers carry `Access-Control-Allow-Origin: *` and never
 * `Allow-Credentials`, so a page elsewhere can read them but never with the user's cookies.
 */
export function openPreflightResponse(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Methods": "GET, POST",
      "Access-Control-Allow-Headers": "Authorization, Content-Type, MCP-Protocol-Version",
      "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_SECONDS,
    },
  });
}

export function applyOpenCorsHeaders(headers: Headers): void {
  headers.set("Access-Control-Allow-Origin", "*");
  headers.set("Access-Control-Expose-Headers", "WWW-Authenticate, X-Request-Id, Retry-After");
}
