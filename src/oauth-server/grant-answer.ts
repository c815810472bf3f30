// A grant's token answer, narrowed to what the token request asks for (RFC 6749 §6,
// RFC 8707 §2.2), and the failure value every token-endpoint path returns (§5.2).
import { normalizeResource } from "../config/oauth-server-settings";
import type { Narrowing } from "../user-authority/oauth-grants/narrowing";
import type { Redemption } from "../user-authority/oauth-grants/types";
import type { OAuthClient } from "./clients/client-record";
import { type Params, checkResources, checkScopes, param, paramList } from "./params";
import type { Provider } from "./provider";
import { type TokenBody, grantTokenBody } from "./token-response";

export interface OAuthFailure {
  ok: false;
  status: 400 | 401 | 403 | 429 | 503;
  error: string;
  description: string;
  headers?: Record<string, string>;
}

export type TokenAnswer = { ok: true; body: TokenBody } | OAuthFailure;

export function failure(error: string, description: string, status: OAuthFailure["status"] = 400): OAuthFailure {
  return { ok: false, status, error, description };
}

/**
 * What the token request asks to narrow the grant to, checked against the provider and
 * the client before the authority is asked (so a malformed one changes nothing); the
 * authority checks it against the grant itself (user-authority/oauth-grants/narrowing.ts).
 */
export function askedNarrowing(provider: Provider, client: OAuthClient, params: Params): { ok: true; asked: Narrowing } | OAuthFailure {
  let scopes: string[] | null = null;
  const askedScope = param(params, "scope");
  if (askedScope !== null) {
    const checked = checkScopes(provider, client, askedScope);
    if (!checked.ok) return failure(checked.error, checked.description);
    scopes = checked.value;
  }
  let resources: string[] | null = null;
  const asked = paramList(params, "resource");
  if (asked.length > 0) {
    const checked = checkResources(provider, client, asked);
    if (!checked.ok) return failure(checked.error, checked.description);
    resources = checked.value;
  }
  return { ok: true, asked: { scopes, resources, ownResource: normalizeResource(provider.ownResource) } };
}

/** The token answer for a redeemed code or rotated refresh token (already narrowed by the authority). */
export async function answerFor(provider: Provider, client: OAuthClient, redemption: Redemption): Promise<TokenAnswer> {
  if (redemption.status !== "issued") return failure(redemption.status, redemption.detail);
  const { tokens } = redemption;
  return { ok: true, body: await grantTokenBody(provider, client, tokens, { scopes: tokens.scopes, resources: tokens.resources }) };
}
