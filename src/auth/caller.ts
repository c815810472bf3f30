// Routes that act on the caller's own sessions (logout, logout-all, refresh-csrf, ending
// one session) need no separate authoritative check: the Worker checks what it can
// alone (the token's shape, an access token's signature, the Origin) and the user's
// authority checks the rest and acts in the same call (UserAuthority.act), so a state
// change costs one round trip. The refusals are those of the authenticate middleware.
import type { Context } from "hono";
import type { Config } from "../config/config";
import { clearSessionCookies } from "../http/cookies";
import type { ApiError } from "../http/errors";
import { FOREIGN_ORIGIN_DETAIL, isTrustedOrigin } from "../http/origins";
import { sha256 } from "../lib/crypto";
import { authorityFor } from "../sessions/authority-client";
import { parseSessionToken, userIdOfSession } from "../sessions/session-token";
import { verifyAccessToken } from "../tokens/access-token";
import type { CallerAction, CallerOutcome, CallerProof } from "../user-authority/types";
import type { AppEnv } from "./app-env";
import type { Credential } from "./credentials";
import { csrfHeaderHash, csrfRefusal } from "./csrf";
import { type Refusal, type RequestFacts, refusalError } from "./resolve";

export interface Caller {
  kind: "session" | "token";
  userId: string;
  /** The cookie session id, or the access token's family. */
  sessionId: string;
  proof: CallerProof;
  credential: Credential;
}

const NOT_AUTHENTICATED: Refusal = { status: "refused", code: "not_authenticated", detail: "Not authenticated", clearCookies: true };

/** What the Worker can check alone of a cookie or an access token; the rest is the authority's. */
export async function callerOf(
  config: Config,
  credential: Extract<Credential, { kind: "session" | "bearer" }>,
  request: RequestFacts,
): Promise<Caller | Refusal> {
  if (credential.kind === "bearer") {
    const claims = await verifyAccessToken(config, credential.token);
    if (claims === null) return { status: "refused", code: "invalid_token", detail: "Invalid or expired access token" };
    const proof: CallerProof = { kind: "family", familyId: claims.familyId, issuedAtSeconds: claims.issuedAt };
    return { kind: "token", userId: claims.userId, sessionId: claims.familyId, proof, credential };
  }
  const parsed = parseSessionToken(credential.token);
  if (parsed === null) return NOT_AUTHENTICATED;
  const checksCsrf = config.csrfEnabled && request.csrf === "check";
  const [secretHash, csrfHash] = await Promise.all([sha256(parsed.secret), checksCsrf ? csrfHeaderHash(request.csrfHeader) : "skip"]);
  const foreignOrigin = request.origin !== null && !isTrustedOrigin(config, request.url, request.origin);
  const proof: CallerProof = { kind: "cookie", id: parsed.id, secretHash, csrfHash, foreignOrigin };
  return { kind: "session", userId: userIdOfSession(parsed.id), sessionId: parsed.id, proof, credential };
}

/** Checks the caller and acts, in one call to their authority; a refusal is thrown as the middleware would. */
export async function actAsCaller(c: Context<AppEnv>, action: CallerAction): Promise<Extract<CallerOutcome, { status: "done" }>> {
  const caller = c.get("caller");
  const outcome = await authorityFor(c.get("services").authority, caller.userId).act(caller.proof, action);
  if (outcome.status === "done") {
    // Logged only once the authority accepted the caller: a refused cookie names no principal.
    c.set("acted", caller.kind);
    return outcome;
  }
  const refusal = refusalOf(caller, outcome.status);
  if (refusal.clearCookies) clearSessionCookies(c);
  throw refusalError(caller.credential, refusal) satisfies ApiError;
}

function refusalOf(caller: Caller, status: Exclude<CallerOutcome["status"], "done">): Refusal {
  switch (status) {
    case "unknown":
      return caller.kind === "token" ? { status: "refused", code: "invalid_token", detail: "Access token revoked" } : NOT_AUTHENTICATED;
    case "expired":
      return { status: "refused", code: "session_expired", detail: "Session expired; sign in again", clearCookies: true };
    case "foreign_origin":
      return { status: "refused", code: "csrf_failed", detail: FOREIGN_ORIGIN_DETAIL };
    case "csrf_missing":
      return { status: "refused", code: "csrf_failed", detail: csrfRefusal("missing") };
    case "csrf_invalid":
      return { status: "refused", code: "csrf_failed", detail: csrfRefusal("invalid") };
  }
}
