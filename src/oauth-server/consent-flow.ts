// What the consent page, the /device page and the connected-apps list ask of the
// provider on behalf of a signed-in user: a waiting request's view, the user's decision
// (a code for the client's redirect, or an approval the device's poll picks up), a
// typed user code, and the user's grants.
import type { Services } from "../services/services";
import type { Assurance } from "../user-authority/session-policy";
import { createSessionToken } from "../sessions/session-token";
import { takeIpSlot, takeUserSlot } from "../throttle/login-guard";
import { DEVICE_CODE_SECONDS } from "./device/device-flow";
import type { AuthorizationRequest, RequestView } from "../user-authority/oauth-grants/types";
import { redirectWith } from "./authorization-request";
import { userOfRequest } from "./authorize";
import { normalizeUserCode } from "./device/user-code";
import { grantsOf } from "./grant-client";
import type { Provider } from "./provider";

export type ConsentDeps = Pick<Services, "authority" | "devices" | "throttle" | "ip">;

/** The user acting: their id, and the session or token family they are signed in with. */
export interface Actor {
  userId: string;
  sessionId: string;
  assurance: Pick<Assurance, "aal" | "amr" | "authTime">;
}

/** Typed user codes per client IP and hour (RFC 8628 §5.1: the user code's guessing is rate limited). */
export const DEVICE_ENTRIES_PER_HOUR = 30;
/**
 * Typed codes per user in a code's lifetime (contract: "at most 5 wrong entries per device
 * code"; a wrong entry names no device code, so it is counted against the user who typed it).
 */
export const DEVICE_ENTRIES_PER_USER = 5;

export function requestView(request: AuthorizationRequest): RequestView {
  return {
    client: {
      client_id: request.clientId,
      name: request.clientName,
      verified: request.verified,
      redirect_host: request.redirectUri === "" ? null : new URL(request.redirectUri).host,
    },
    scopes: request.scopes,
    resources: request.resources,
    aal_required: request.aalRequired,
  };
}

/** A waiting request of this user; null when it is not theirs, unknown or expired. */
export async function pendingRequest(services: ConsentDeps, actor: Actor, requestId: string): Promise<AuthorizationRequest | null> {
  if (userOfRequest(requestId) !== actor.userId) return null;
  return grantsOf(services.authority, actor.userId).pendingRequest(requestId);
}

export type DecisionAnswer = { status: "decided"; redirectTo: string | null } | { status: "not_found" } | { status: "aal_required" };

export async function decide(
  services: ConsentDeps,
  provider: Provider,
  actor: Actor,
  requestId: string,
  allow: boolean,
): Promise<DecisionAnswer> {
  if (userOfRequest(requestId) !== actor.userId) return { status: "not_found" };
  const code = await createSessionToken(actor.userId);
  const decision = await grantsOf(services.authority, actor.userId).decide(
    requestId,
    allow,
    { id: actor.sessionId, assurance: actor.assurance },
    { id: code.id, secretHash: code.secretHash, code: code.token },
  );
  if (decision.status === "unknown") return { status: "not_found" };
  if (decision.status === "aal_required") return { status: "aal_required" };
  const { request } = decision;
  if (request.device !== undefined) {
    const device = services.devices.getByName(request.device.userCode);
    const decided = await device.decide(
      decision.status === "code" ? { approve: true, userId: actor.userId, code: decision.code } : { approve: false },
    );
    return decided ? { status: "decided", redirectTo: null } : { status: "not_found" };
  }
  const values: Record<string, string | null> =
    decision.status === "code"
      ? { code: decision.code, state: request.state, iss: provider.issuer }
      : { error: "access_denied", error_description: "The user denied the request", state: request.state, iss: provider.issuer };
  return { status: "decided", redirectTo: redirectWith(request.redirectUri, values) };
}

export type LookupAnswer =
  | { status: "found"; requestId: string }
  | { status: "invalid" }
  | { status: "rate_limited"; retryAfterSeconds: number }
  | { status: "aal_required" };

/** A user code typed on /device: the device's request becomes a waiting request of this user (consent is always asked). */
export async function lookupUserCode(services: ConsentDeps, actor: Actor, typed: string): Promise<LookupAnswer> {
  // RFC 8628 §5.1: typed codes are limited per client IP (an hour) and per user (the life of a code).
  const [slot, mine] = await Promise.all([
    takeIpSlot(services.throttle, "oauth-device", services.ip, DEVICE_ENTRIES_PER_HOUR),
    takeUserSlot(services.throttle, "oauth-device-user", actor.userId, {
      max: DEVICE_ENTRIES_PER_USER,
      windowMs: DEVICE_CODE_SECONDS * 1000,
    }),
  ]);
  if (!slot.allowed) return { status: "rate_limited", retryAfterSeconds: slot.retryAfterSeconds };
  if (!mine.allowed) return { status: "rate_limited", retryAfterSeconds: mine.retryAfterSeconds };
  const userCode = normalizeUserCode(typed);
  if (userCode === null) return { status: "invalid" };
  const request = await services.devices.getByName(userCode).lookup();
  if (request === null) return { status: "invalid" };
  const [requestToken, unused] = await Promise.all([createSessionToken(actor.userId), createSessionToken(actor.userId)]);
  const outcome = await grantsOf(services.authority, actor.userId).authorize({
    requestId: requestToken.id,
    request,
    session: { id: actor.sessionId, assurance: actor.assurance },
    code: { id: unused.id, secretHash: unused.secretHash, code: unused.token },
    firstParty: false,
    prompt: "consent",
  });
  if (outcome.status === "consent_required") return { status: "found", requestId: outcome.requestId };
  return outcome.status === "aal_required" ? { status: "aal_required" } : { status: "invalid" };
}
