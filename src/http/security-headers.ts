import type { Config } from "../config/config";

/**
 * Set on every response. `nosniff` keeps a JSON answer from ever being read as a page or
 * a script; the resource policy keeps other sites from loading any answer, credentialed
 * JSON included, into their pages (no-cors reads).
 */
const ALWAYS: ReadonlyArray<readonly [string, string]> = [
  ["X-Content-Type-Options", "nosniff"],
  ["Cross-Origin-Resource-Policy", "same-site"],
];
/**
 * Set on everything a browser may show or follow: pages, SVG, redirects, bodiless and
 * text answers, and any answer to a navigation. Not on JSON fetched by code, which with
 * `nosniff` is never rendered as a document, framed or the source of a Referer: there these
 * headers cost CPU on the hottest paths and protect nothing (docs/decisions.md).
 */
const DOCUMENTS: ReadonlyArray<readonly [string, string]> = [
  ["X-Frame-Options", "DENY"],
  ["Referrer-Policy", "no-referrer"],
];
const NO_STORE = "no-store";
/** The content security policy of a document unless its route chose its own (the docs page). */
const LOCKED_DOWN_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * Safe defaults on a response; HSTS when cookies are secure (the service is on HTTPS).
 * A redirect is followed by the browser whatever it carries, and a navigation shows what
 * it gets (an OAuth callback's JSON in a tab, its code in the URL): both always get the
 * document headers, whose Referrer-Policy keeps such a URL out of any Referer.
 */
export function applySecurityHeaders(headers: Headers, config: Config | undefined, answer: { status: number; navigation: boolean }): void {
  for (const [name, value] of ALWAYS) headers.set(name, value);
  // No API response may be cached: most carry or depend on a credential (routes that may
  // be cached, the JWKS and static assets, choose their own).
  if (!headers.has("Cache-Control")) headers.set("Cache-Control", NO_STORE);
  if (answer.navigation || (answer.status >= 300 && answer.status < 400) || !isJson(headers.get("Content-Type"))) {
    for (const [name, value] of DOCUMENTS) headers.set(name, value);
    if (!headers.has("Content-Security-Policy")) headers.set("Content-Security-Policy", LOCKED_DOWN_CSP);
  }
  if (config?.cookies.secure) headers.set(...HSTS);
}

const HSTS = ["Strict-Transport-Security", "max-age=31536000"] as const;
const jsonHeaders = new WeakMap<Config, Readonly<Record<string, string>>>();

/**
 * What applySecurityHeaders gives a JSON answer that chose no caching of its own, with its
 * Content-Type, as one object: an answer built whole (auth/memory-answer.ts) is cheaper than
 * one whose headers are set one by one.
 */
export function jsonAnswerHeaders(config: Config): Readonly<Record<string, string>> {
  let headers = jsonHeaders.get(config);
  if (headers === undefined) {
    headers = Object.freeze({
      "Content-Type": "application/json",
      ...Object.fromEntries(ALWAYS),
      "Cache-Control": NO_STORE,
      ...(config.cookies.secure ? Object.fromEntries([HSTS]) : {}),
    });
    jsonHeaders.set(config, headers);
  }
  return headers;
}

/** A browser's top-level or framed navigation (Fetch Metadata), as opposed to a fetch by code. */
export function isNavigation(request: Request): boolean {
  return request.headers.get("Sec-Fetch-Mode") === "navigate";
}

/** `application/json` and its `+json` kin (problem details, JWK sets). */
function isJson(contentType: string | null): boolean {
  if (contentType === null) return false;
  const end = contentType.indexOf(";");
  const type = (end === -1 ? contentType : contentType.slice(0, end)).trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}
