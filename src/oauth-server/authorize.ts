// The authorization endpoint's flow (OAuth 2.1 §4.1, OpenID Connect Core §3.1.2): check
// the request, find the browser's session, and answer with a redirect: to the client
// (a code, or an error), to the consent page, or to the sign-in page and back.
import type { Services } from "../services/services";
import { createSessionToken, isSessionId, userIdOfSession } from "../sessions/session-token";
import { resolveSession } from "../sessions/session-service";
import { lastAuthenticatedAt, assuranceOf } from "../user-authority/session-policy";
import { type AuthorizationParams, checkAuthorizationRequest, redirectWith } from "./authorization-request";
import { grantsOf } from "./grant-client";
import type { Params } from "./params";
import type { Provider } from "./provider";

export type AuthorizeDeps = Pick<Services, "config" | "d1" | "kv" | "authority" | "waitUntil" | "throttle" | "ip">;

export type AuthorizeAnswer = { kind: "redirect"; location: string } | { kind: "page_error"; description: string };

/**
 * Where the browser signs in before coming back to `returnTo` (a path of this origin):
 * the account page (public/account/return-to.js). `reauth`: a session exists but is not
 * fresh enough (prompt=login, max_age); `aal2`: it needs a second factor.
 */
export function signInPage(returnTo: string, reason: "login" | "reauth" | "aal2"): string {
  const query = new URLSearchParams({ return_to: returnTo });
  if (reason === "reauth") query.set("reauth", "1");
  if (reason === "aal2") query.set("step_up", "aal2");
  return `/account?${query}`;
}

export async function authorize(
  services: AuthorizeDeps,
  provider: Provider,
  params: Params,
  request: { sessionToken: string | null; pathAndQuery: string },
): Promise<AuthorizeAnswer> {
  const checked = await checkAuthorizationRequest(services, provider, params);
  if (checked.status === "page_error") return { kind: "page_error", description: checked.description };
  if (checked.status === "redirect_error") {
    const { redirectUri, error, description, state } = checked;
    // RFC 9700 §4.11.2: a client anyone could have registered (DCR, a metadata document)
    // gets no redirect before the user has seen the consent page, or this endpoint would
    // be an open redirector to whatever URI it registered. The error is shown here instead.
    if (!checked.verified) return { kind: "page_error", description: `${description} (${error}).` };
    return toClient(redirectUri, { error, error_description: description, state, iss: provider.issuer });
  }
  const { request: authorization, prompt, maxAge: askedMaxAge } = checked.value;
  const fail = (error: string, description: string): AuthorizeAnswer =>
    authorization.verified
      ? toClient(authorization.redirectUri, { error, error_description: description, state: authorization.state, iss: provider.issuer })
      : { kind: "page_error", description: `${description} (${error}).` };
  // OpenID Connect Core §3.1.2.1: max_age=0 asks for a sign-in now, as prompt=login does.
  const forcedLogin = prompt === "login" || askedMaxAge === 0;
  const maxAge = askedMaxAge === 0 ? null : askedMaxAge;

  const session = request.sessionToken === null ? null : await resolveSession(services, request.sessionToken, { authoritative: false });
  const valid = session?.status === "valid" ? session.session : null;
  // prompt=login is answered once: the sign-in page returns here without it (returnPath).
  const signedInAt = valid === null ? 0 : lastAuthenticatedAt(assuranceOf(valid));
  const tooOld = maxAge !== null && Date.now() - signedInAt > maxAge * 1000;
  if (valid === null || forcedLogin || tooOld) {
    if (prompt === "none") return fail("login_required", "The user is not signed in");
    return {
      kind: "redirect",
      location: signInPage(returnPath(request.pathAndQuery, forcedLogin), valid === null ? "login" : "reauth"),
    };
  }
  const userId = valid.userId;
  const [code, requestToken] = await Promise.all([createSessionToken(userId), createSessionToken(userId)]);
  const outcome = await grantsOf(services.authority, userId).authorize({
    requestId: requestToken.id,
    request: authorization,
    session: { id: valid.id, assurance: { aal: assuranceOf(valid).aal, amr: assuranceOf(valid).amr, authTime: signedInAt } },
    code: { id: code.id, secretHash: code.secretHash, code: code.token },
    firstParty: checked.value.client.firstParty,
    prompt,
  });
  switch (outcome.status) {
    case "code":
      return toClient(authorization.redirectUri, { code: outcome.code, state: authorization.state, iss: provider.issuer });
    case "consent_required":
      return { kind: "redirect", location: `/oauth2/consent?request=${outcome.requestId}` };
    case "consent_required_error":
      return fail("consent_required", "The user has not consented to this client");
    case "aal_required":
      if (prompt === "none") return fail("interaction_required", "A second factor is required");
      return { kind: "redirect", location: signInPage(request.pathAndQuery, "aal2") };
    case "refused":
      if (prompt === "none") return fail("login_required", "The user is not signed in");
      return { kind: "redirect", location: signInPage(request.pathAndQuery, "login") };
  }
}

/** The consent page's request id names its user (its first 32 hex digits), like a session id. */
export function userOfRequest(requestId: string): string | null {
  return isSessionId(requestId) ? userIdOfSession(requestId) : null;
}

function toClient(redirectUri: string, values: Record<string, string | null>): AuthorizeAnswer {
  return { kind: "redirect", location: redirectWith(redirectUri, values) };
}

/**
 * The authorization URL the sign-in page returns to. After a prompt=login it returns
 * with max_age=60 instead: the session that sign-in made (seconds old) is accepted, an
 * older one is not, and the browser is not sent to sign in again in a loop.
 */
function returnPath(pathAndQuery: string, forcedLogin: boolean): string {
  if (!forcedLogin) return pathAndQuery;
  const url = new URL(pathAndQuery, "http://unused.invalid");
  if (url.searchParams.get("prompt") === "login") url.searchParams.delete("prompt");
  url.searchParams.set("max_age", "60");
  return `${url.pathname}${url.search}`;
}

export type { AuthorizationParams };
