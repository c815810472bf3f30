// CSRF defences for cookie-authenticated requests. The session cookie travels on its
// own; the CSRF token must come back in the X-CSRF-Token header, which a foreign page
// can neither read nor set. The token's hash is bound to the session in its authority.
import { constantTimeEqual, sha256 } from "../lib/crypto";

export const CSRF_HEADER = "X-CSRF-Token";

/** How to fix a refusal: the token came with the login and sits in the csrf_token cookie, or is one call away. */
const HOW_TO_SEND =
  "send it in the X-CSRF-Token header (the csrf_token of the login answer or cookie), or get a new one from POST /api/v1/auth/refresh-csrf";

/** Checks the X-CSRF-Token header against the session's token hash: "ok", or why not and how to fix it. */
export async function checkCsrfToken(header: string | null, csrfHash: string | null): Promise<"ok" | string> {
  if (header === null || header === "" || csrfHash === null) return csrfRefusal("missing");
  return constantTimeEqual(await sha256(header), csrfHash) ? "ok" : csrfRefusal("invalid");
}

/** The detail of a CSRF refusal. */
export function csrfRefusal(why: "missing" | "invalid"): string {
  return `${why === "missing" ? "Missing" : "Invalid"} CSRF token: ${HOW_TO_SEND}`;
}

/** What the authority compares with the session's token hash (UserAuthority.act): the header's hash, or null when none came. */
export async function csrfHeaderHash(header: string | null): Promise<string | null> {
  return header === null || header === "" ? null : sha256(header);
}
