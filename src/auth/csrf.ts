// CSRF defences for cookie-authenticated requests. The session cookie travels on its
// own; the CSRF token must come back in the X-CSRF-Token header, which a foreign page
// can neither read nor set. The token's hash is bound to the session in its authority.
import { constantTimeEqual, sha256 } from "../lib/crypto";

export const CSRF_HEADER = "X-CSRF-Token";

/** Checks the X-CSRF-Token header against the session's token hash: "ok", or why not. */
export async function checkCsrfToken(header: string | null, csrfHash: string | null): Promise<"ok" | string> {
  if (header === null || header === "" || csrfHash === null) return "Missing CSRF token: send it in the X-CSRF-Token header";
  return constantTimeEqual(await sha256(header), csrfHash) ? "ok" : "Invalid CSRF token";
}
