// Where an OAuth login may send the browser afterwards: a relative path on the app, or
// an absolute URL on an origin listed in CORS_ORIGINS, OAUTH_ALLOWED_REDIRECTS or
// APP_BASE_URL. Anything else is refused at the start (no open redirect).
import type { Config } from "../config/config";

/** The absolute target for `redirect_to`, or null when it is not allowed. */
export function resolveRedirectTo(config: Config, appBase: string, redirectTo: string | undefined): string | null {
  if (redirectTo === undefined || redirectTo === "") return new URL("/", appBase).href;
  if (redirectTo.length > 2048 || /[\u0000-\u001f\\]/.test(redirectTo)) return null;
  if (redirectTo.startsWith("/") && !redirectTo.startsWith("//")) {
    const url = new URL(redirectTo, appBase);
    return url.origin === new URL(appBase).origin ? url.href : null;
  }
  let url: URL;
  try {
    url = new URL(redirectTo);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username !== "" || url.password !== "") return null;
  const trusted = [...config.corsOrigins, ...config.oauth.allowedOrigins];
  if (config.appBaseUrl !== undefined) trusted.push(new URL(config.appBaseUrl).origin);
  return trusted.includes(url.origin) ? url.href : null;
}

/** A mobile app's redirect URI must be listed exactly in OAUTH_ALLOWED_REDIRECTS. */
export function isAllowedAppRedirect(config: Config, redirectUri: string): boolean {
  return config.oauth.allowedRedirectUris.includes(redirectUri);
}

/** Adds query parameters to a redirect target (keeps its own query and fragment). */
export function withParams(target: string, params: Record<string, string>): string {
  const url = new URL(target);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}
