// OAuth 2 endpoints (/oauth2/*) answer errors in the RFC 6749 §5.2 shape,
// {"error", "error_description"}, instead of the contract's {detail, code} (contract
// v1.2). Errors a protocol endpoint returns as values are made here; errors thrown on
// the way (a bad body, a dependency down) are mapped here by the app's renderer.
import type { Context } from "hono";
import type { ApiError } from "../http/errors";

export function isOAuthEndpoint(path: string): boolean {
  return path.startsWith("/oauth2/");
}

export function oauthErrorJson(
  c: Context,
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): Response {
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  c.header("Cache-Control", "no-store");
  return c.json({ error, error_description: description }, status as 400);
}

/** A thrown error, in the RFC's shape: a refused body is invalid_request (400); a dependency down is temporarily_unavailable. */
export function oauthErrorFromApiError(c: Context, error: ApiError): Response {
  const mapped = mapError(error);
  return oauthErrorJson(c, mapped.status, mapped.error, error.message, error.headers);
}

function mapError(error: ApiError): { status: number; error: string } {
  if (error.status === 503) return { status: 503, error: "temporarily_unavailable" };
  if (error.status === 429) return { status: 429, error: "temporarily_unavailable" };
  if (error.status >= 500) return { status: 500, error: "server_error" };
  if (error.status === 404) return { status: 404, error: "not_found" };
  if (error.status === 405) return { status: 405, error: "invalid_request" };
  if (error.status === 401) return { status: 401, error: "invalid_client" };
  if (error.status === 403) return { status: 403, error: "access_denied" };
  return { status: 400, error: "invalid_request" };
}
