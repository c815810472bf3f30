// The provider as a request sees it: its issuer, the scopes it offers, the resources it
// issues tokens for, and its keys. Built from the settings and the request's origin.
import type { Config } from "../config/config";
import type { Services } from "../services/services";
import { BASE_SCOPES, normalizeResource } from "../config/oauth-server-settings";
import { ApiError } from "../http/errors";
import { type ProviderKeys, providerKeys } from "./keys";

export interface Provider {
  issuer: string;
  /** This service's own API as a resource (RFC 9728): the issuer's URL. */
  ownResource: string;
  /** Every resource a token may be issued for, normalized (normalizeResource). */
  resources: ReadonlySet<string>;
  scopes: ReadonlySet<string>;
  accessTtlSeconds: number;
  refreshTtlMs: number;
  /** The ID-token algorithms it can sign with (RS256 always). */
  idTokenAlgs: Array<"RS256" | "ES256" | "EdDSA">;
  keys(): Promise<ProviderKeys>;
}

export type ProviderDeps = Pick<Services, "config" | "d1" | "origin">;

type ProviderFacts = Omit<Provider, "keys">;
/** What follows from the settings and the issuer alone, built once per isolate, config and issuer. */
const facts = new WeakMap<Config, Map<string, ProviderFacts>>();

/** The provider, or a 404 when OAUTH_SERVER_ENABLED is off (its routes do not exist then). */
export function providerOf(services: ProviderDeps): Provider {
  const settings = services.config.oauthServer;
  if (!settings.enabled) throw new ApiError("not_found", "Not found");
  const issuer = settings.issuer ?? services.origin;
  let byIssuer = facts.get(services.config);
  if (byIssuer === undefined) {
    byIssuer = new Map();
    facts.set(services.config, byIssuer);
  }
  let known = byIssuer.get(issuer);
  if (known === undefined) {
    known = {
      issuer,
      ownResource: issuer,
      resources: new Set([normalizeResource(issuer), ...settings.resources]),
      scopes: new Set([...BASE_SCOPES, ...settings.extraScopes]),
      accessTtlSeconds: settings.accessTtlSeconds,
      refreshTtlMs: settings.refreshTtlMs,
      idTokenAlgs: ["RS256", ...new Set(settings.keys.map((key) => key.alg).filter((alg) => alg !== "RS256"))],
    };
    // A request's origin is the issuer when OAUTH_ISSUER is unset: bounded against many Host names.
    if (byIssuer.size >= 16) byIssuer.delete(byIssuer.keys().next().value as string);
    byIssuer.set(issuer, known);
  }
  // The keys with this request's D1 (they are built once per config; the binding only matters the first time).
  return { ...known, keys: () => providerKeys(services.config, services.d1) };
}

/** The audience of a token for these resources: the resources as asked, or the issuer when none was. */
export function audienceOf(provider: Provider, resources: readonly string[]): string | string[] {
  if (resources.length === 0) return provider.issuer;
  return resources.length === 1 ? (resources[0] as string) : [...resources];
}
