// Finding the client a request names: a registered one (D1, remembered 5 s), or, when client_id is an
// https URL and OAUTH_SERVER_CIMD is on, the Client ID Metadata Document at that URL
// (draft-ietf-oauth-client-id-metadata-document): fetched with the guards of
// lib/guarded-fetch.ts (5 s, 5 KiB), kept in this isolate's memory for as long as its
// caching headers allow, at most 24 hours.
import type { Services } from "../../services/services";
import { isDevelopmentEnvironment } from "../../config/config";
import { guardedFetch } from "../../lib/guarded-fetch";
import { takeIpSlot } from "../../throttle/login-guard";
import type { GrantType, OAuthClient } from "./client-record";
import { findClient } from "./client-store";
import { redirectUriProblem } from "./redirect-uri";

const FETCH = { timeoutMs: 5_000, maxBytes: 5 * 1024 };
const MAX_CACHE_SECONDS = 86_400;
const DEFAULT_CACHE_SECONDS = 300;
const MAX_REMEMBERED = 1_000;

const remembered = new Map<string, { client: OAuthClient | null; until: number }>();

export type ClientDeps = Pick<Services, "config" | "d1" | "throttle" | "ip">;

/**
 * Metadata documents one client IP may have fetched per hour (misses of this isolate's
 * memory only): every endpoint that names a client can reach the fetch, and a caller must
 * not make this service fetch URLs at will.
 */
const FETCHES_PER_IP_HOUR = 60;

/**
 * Registered clients as this isolate last read them, for a few seconds: a token endpoint
 * call then costs no D1 round trip. An admin's change reaches every isolate within this
 * (disabling also ends the client's grants at each user's authority at once).
 */
const REGISTERED_MEMORY_MS = 5_000;
const registered = new Map<string, { client: OAuthClient | null; until: number }>();

export async function resolveClient(services: ClientDeps, clientId: string): Promise<OAuthClient | null> {
  if (clientId.length > 2000) return null;
  if (!isMetadataDocumentId(clientId)) return registeredClient(services.d1, clientId);
  if (!services.config.oauthServer.cimd) return null;
  const known = remembered.get(clientId);
  if (known !== undefined && known.until > Date.now()) return known.client;
  const slot = await takeIpSlot(services.throttle, "oauth-cimd", services.ip, FETCHES_PER_IP_HOUR);
  if (!slot.allowed) return null;
  const { client, cacheSeconds } = await fetchDocument(services, clientId);
  if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
  remembered.set(clientId, { client, until: Date.now() + cacheSeconds * 1000 });
  return client;
}

/** A registered client (D1) as this isolate read it in the last REGISTERED_MEMORY_MS. */
export async function registeredClient(db: D1Database, clientId: string): Promise<OAuthClient | null> {
  const known = registered.get(clientId);
  if (known !== undefined && known.until > Date.now()) return known.client;
  const client = await findClient(db, clientId);
  if (registered.size >= MAX_REMEMBERED) registered.delete(registered.keys().next().value as string);
  registered.set(clientId, { client, until: Date.now() + REGISTERED_MEMORY_MS });
  return client;
}

/** A client_id that is a URL with a path (the draft's form): https, or loopback http in development. */
export function isMetadataDocumentId(clientId: string): boolean {
  return (clientId.startsWith("https://") || clientId.startsWith("http://")) && URL.canParse(clientId);
}

async function fetchDocument(services: ClientDeps, clientId: string): Promise<{ client: OAuthClient | null; cacheSeconds: number }> {
  const development = isDevelopmentEnvironment(services.config.environment);
  const url = new URL(clientId);
  if (url.pathname === "/" || url.hash !== "" || url.search !== "") return { client: null, cacheSeconds: DEFAULT_CACHE_SECONDS };
  const answer = await guardedFetch(clientId, { headers: { Accept: "application/json" } }, { ...FETCH, development });
  // A document that cannot be had now is not remembered for long: the next request tries again.
  if (!answer.ok || answer.status !== 200) return { client: null, cacheSeconds: 30 };
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    return { client: null, cacheSeconds: 30 };
  }
  const client = clientFromDocument(clientId, document, development);
  return { client, cacheSeconds: cacheSecondsOf(answer.headers.get("Cache-Control")) };
}

/** The document describes the client at its own URL: a public client with its redirect URIs. */
function clientFromDocument(clientId: string, document: Record<string, unknown>, development: boolean): OAuthClient | null {
  if (typeof document !== "object" || document === null || document.client_id !== clientId) return null;
  const redirects = document.redirect_uris;
  if (!Array.isArray(redirects) || redirects.length === 0 || redirects.length > 20) return null;
  if (!redirects.every((uri): uri is string => typeof uri === "string" && redirectUriProblem(uri, { development }) === null)) return null;
  const method = document.token_endpoint_auth_method ?? "none";
  // A document is public: a shared secret cannot be published in it.
  if (method !== "none" || "client_secret" in document) return null;
  const grants = Array.isArray(document.grant_types) ? document.grant_types : ["authorization_code"];
  const grantTypes = grants.filter((grant): grant is GrantType => grant === "authorization_code" || grant === "refresh_token");
  const name =
    typeof document.client_name === "string" && document.client_name.trim() !== ""
      ? document.client_name.trim().slice(0, 200)
      : new URL(clientId).host;
  return {
    clientId,
    name,
    source: "cimd",
    authMethod: "none",
    secretHash: null,
    redirectUris: redirects,
    grantTypes: grantTypes.includes("authorization_code") ? grantTypes : ["authorization_code", ...grantTypes],
    scopes: null,
    resources: null,
    firstParty: false,
    requireAal: 1,
    introspection: false,
    disabled: false,
    idTokenAlg: "RS256",
    clientUri: typeof document.client_uri === "string" ? document.client_uri : null,
    logoUri: null,
    createdAt: new Date().toISOString(),
  };
}

function cacheSecondsOf(header: string | null): number {
  if (header === null) return DEFAULT_CACHE_SECONDS;
  if (/\b(no-store|no-cache)\b/i.test(header)) return 0;
  const maxAge = /\bmax-age=(\d+)/i.exec(header)?.[1];
  return maxAge === undefined ? DEFAULT_CACHE_SECONDS : Math.min(Number(maxAge), MAX_CACHE_SECONDS);
}

/** Forgets this isolate's copy of a client (an admin changed it here). */
export function forgetClient(clientId: string): void {
  registered.delete(clientId);
}
