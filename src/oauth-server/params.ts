// Scopes (RFC 6749 §3.3) and resource indicators (RFC 8707 §2) as a request names them,
// checked against what the provider offers and what the client may ask for.
import { normalizeResource } from "../config/oauth-server-settings";
import type { OAuthClient } from "./clients/client-record";
import type { Provider } from "./provider";

export type Checked<T> =
  { ok: true; value: T } | { ok: false; error: "invalid_scope" | "invalid_target" | "invalid_request"; description: string };

export function checkScopes(provider: Provider, client: OAuthClient, raw: string | null): Checked<string[]> {
  if (raw === null || raw.trim() === "") return { ok: true, value: [] };
  const scopes = [...new Set(raw.split(" ").filter((scope) => scope !== ""))];
  for (const scope of scopes) {
    if (!provider.scopes.has(scope)) return { ok: false, error: "invalid_scope", description: `Unknown scope: ${scope.slice(0, 64)}` };
    if (client.scopes !== null && !client.scopes.includes(scope)) {
      return { ok: false, error: "invalid_scope", description: `The client may not ask for the scope ${scope}` };
    }
  }
  return { ok: true, value: scopes };
}

/** Resource indicators, normalized: each must be an absolute URI with no fragment that this provider issues tokens for. */
export function checkResources(provider: Provider, client: OAuthClient, raw: readonly string[]): Checked<string[]> {
  const resources: string[] = [];
  for (const text of raw) {
    if (text.length > 2000 || !URL.canParse(text) || text.includes("#")) {
      return { ok: false, error: "invalid_target", description: "A resource must be an absolute URI without a fragment" };
    }
    const resource = normalizeResource(text);
    if (!provider.resources.has(resource))
      return { ok: false, error: "invalid_target", description: "Tokens are not issued for this resource" };
    if (client.resources !== null && !client.resources.map(normalizeResource).includes(resource)) {
      return { ok: false, error: "invalid_target", description: "The client may not ask for this resource" };
    }
    if (!resources.includes(resource)) resources.push(resource);
  }
  return { ok: true, value: resources };
}

/** A request's parameters: a name sent twice holds an array (http/body.ts collectParams, for a form body or the query). */
export type Params = Readonly<Record<string, string | string[]>>;

/** RFC 6749 §3.1: a parameter sent twice makes the request invalid (resource alone may repeat, RFC 8707 §2). */
export function repeatedParameter(params: Params): string | null {
  for (const name of Object.keys(params)) if (name !== "resource" && Array.isArray(params[name])) return name;
  return null;
}

/** One parameter's value; null when absent or empty. (Call repeatedParameter first: an array reads as absent.) */
export function param(params: Params, name: string): string | null {
  const value = Object.hasOwn(params, name) ? params[name] : undefined;
  return typeof value === "string" && value !== "" ? value : null;
}

/** Every value of a repeatable parameter. */
export function paramList(params: Params, name: string): string[] {
  const value = Object.hasOwn(params, name) ? params[name] : undefined;
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
