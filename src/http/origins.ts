import type { Config } from "../config/config";
import { isUnsafeMethod } from "./methods";

/** The answer to a request from an origin that is not trusted, and how to trust it. */
export const FOREIGN_ORIGIN_DETAIL = "Cross-origin request refused: add this origin to CORS_ORIGINS to call from it";

/**
 * Origins trusted to make credentialed requests: the service's own origin, the app's
 * (APP_BASE_URL) and every origin in CORS_ORIGINS. `Origin: null` (sandboxed frames,
 * some redirects) is never trusted.
 */
export function isTrustedOrigin(config: Config, requestUrl: string, origin: string): boolean {
  if (origin === "null") return false;
  if (config.corsOrigins.includes(origin)) return true;
  if (new URL(requestUrl).origin === origin) return true;
  return config.appBaseUrl !== undefined && new URL(config.appBaseUrl).origin === origin;
}

/**
 * Refuses a state-changing request whose Origin is foreign. Requests that authenticate
 * with a header (Authorization, X-API-Key) carry no ambient credential and are exempt.
 */
export function isForeignWrite(config: Config, request: Request, origin: string | null): boolean {
  if (origin === null || !isUnsafeMethod(request.method)) return false;
  if (request.headers.has("Authorization") || request.headers.has("X-API-Key")) return false;
  return !isTrustedOrigin(config, request.url, origin);
}
