import type { Config } from "../config/config";

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
