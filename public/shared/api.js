// The API client of the service's pages (the admin console and the account page):
// - every call sends the session cookie (credentials: "include");
// - every state-changing call sends the CSRF token in X-CSRF-Token; the token comes from
//   the sign-in answer, and after a reload from POST /auth/refresh-csrf (a page on another
//   origin cannot read the API origin's csrf_token cookie);
// - a 403 csrf_failed (another tab rotated the token) gets the current token and one retry.
import { $, show } from "./dom.js";

let base = location.origin;
let csrfToken = null;

/**
 * The account page may run on another origin and name the service in ?api=; the console
 * never does. Only an allowed origin is taken: the page's own, and those the page's HTML
 * lists in <meta name="edge-auth-api-origins" content="https://auth.example.com ...">
 * (whoever serves a copy of the page elsewhere adds it). Any other ?api= is ignored and
 * the page stays on its own origin: else a link could send the passwords typed here to
 * any server. Served by the service, the page lists none, so it only talks to itself.
 * Returns the base and, when ?api= was ignored, what it named.
 */
export function useApiBase({ allowQuery }) {
  const fromQuery = allowQuery ? new URLSearchParams(location.search).get("api") : null;
  if (fromQuery === null) return { base, refused: null };
  const origin = originOf(fromQuery);
  if (origin === null || !allowedApiOrigins().includes(origin)) return { base, refused: fromQuery };
  base = origin;
  return { base, refused: null };
}

function allowedApiOrigins() {
  const listed = document.querySelector('meta[name="edge-auth-api-origins"]')?.content ?? "";
  return [location.origin, ...listed.split(/\s+/).map(originOf)].filter((origin) => origin !== null);
}

/** The origin of an http(s) URL, or null. */
function originOf(text) {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
  } catch {
    return null;
  }
}

export function setCsrfToken(token) {
  csrfToken = token ?? null;
}

/** A reloaded page has no token in memory: ask for a fresh one. */
export async function ensureCsrfToken() {
  if (csrfToken !== null) return;
  const rotated = await api("POST", "/api/v1/auth/refresh-csrf");
  if (rotated.status === 200) csrfToken = rotated.data.csrf_token;
}

/** {status, data}; a network failure is status 0 with a detail, like an API error. */
export async function api(method, path, body, retried = false) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken !== null) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers,
      credentials: "include",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { status: 0, data: { code: "network_error", detail: "The service cannot be reached" } };
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 403 && data?.code === "csrf_failed" && !retried && path !== "/api/v1/auth/refresh-csrf") {
    const rotated = await api("POST", "/api/v1/auth/refresh-csrf", undefined, true);
    if (rotated.status === 200) {
      csrfToken = rotated.data.csrf_token;
      return api(method, path, body, true);
    }
  }
  return { status: response.status, data };
}

/** What to tell the user about a failed call: the API's detail and its code. */
export function problem(result) {
  const detail = result.data?.detail;
  if (typeof detail === "string") return result.data.code ? `${detail} (${result.data.code})` : detail;
  return `HTTP ${result.status}`;
}

/** check-auth's answer, or null when the service could not say (the page then says why). */
export async function readSession() {
  const check = await api("GET", "/api/v1/auth/check-auth");
  if (check.status === 200) return check.data;
  $("status").textContent = "Service unavailable";
  show(`Cannot read your session: ${problem(check)}`, "error");
  return null;
}
