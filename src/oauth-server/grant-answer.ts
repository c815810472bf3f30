// A grant's token answer, narrowed to what the token request asks for (RFC 6749 §6,
// RFC 8707 §2.2), and the failure value every token-endpoint path returns (§5.2).
import type { GrantTokens, Redemption } from "../user-authority/oauth-grants/types";
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

/** The answer for a grant, narrowed to the scopes and resource the token request asks for (RFC 6749 §6, RFC 8707 §2.2). */
export async function answerFor(provider: Provider, client: OAuthClient, redemption: Redemption, params: Params): Promise<TokenAnswer> {
  if (redemption.status !== "issued") return failure("invalid_grant", redemption.detail);
  const narrowed = narrow(provider, client, redemption.tokens, params);
  if (!narrowed.ok) return narrowed;
  return { ok: true, body: await grantTokenBody(provider, client, redemption.tokens, narrowed) };
}

function narrow(
  provider: Provider,
  client: OAuthClient,
  tokens: GrantTokens,
  params: Params,
): ({ ok: true } & { scopes: string[]; resources: string[] }) | OAuthFailure {
  let scopes = tokens.scopes;
  const askedScope = param(params, "scope");
  if (askedScope !== null) {
    const checked = checkScopes(provider, client, askedScope);
    if (!checked.ok || !checked.value.every((scope) => tokens.scopes.includes(scope))) {
      return failure("invalid_scope", "A refresh may only ask for scopes the grant holds");
    }
    scopes = checked.value;
  }
  let resources = tokens.resources;
  const asked = paramList(params, "resource");
  if (asked.length > 0) {
    const checked = checkResources(provider, client, asked);
    if (!checked.ok) return failure("invalid_target", checked.description);
    // RFC 8707 §2.2: the token's audience is narrowed to resources the grant was given.
    if (tokens.resources.length > 0 && !checked.value.every((resource) => tokens.resources.includes(resource))) {
      return failure("invalid_target", "The grant was not given this resource");
    }
    resources = checked.value;
  }
  return { ok: true, scopes, resources };
}
