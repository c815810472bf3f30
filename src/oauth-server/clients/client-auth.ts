// Client authentication at the token, revocation and introspection endpoints (RFC 6749
// §2.3): HTTP Basic (client_secret_basic), the secret in the body (client_secret_post),
// or none for a public client, which only names itself. Exactly one method per request.
import { constantTimeEqual, sha256 } from "../../lib/crypto";
import type { OAuthClient } from "./client-record";
import { type ClientDeps, resolveClient } from "./resolve-client";

export interface PresentedClient {
  clientId: string;
  secret: string | null;
  method: OAuthClient["authMethod"];
}

export type ClientAuthentication = { status: "ok"; client: OAuthClient } | { status: "invalid_client"; detail: string; basic: boolean };

/** What the request says about its client; "invalid" when it is malformed or uses two methods. */
export function presentedClient(authorization: string | null, form: Record<string, string | string[]>): PresentedClient | "invalid" | null {
  const bodyId = single(form.client_id);
  const bodySecret = single(form.client_secret);
  if (bodyId === "invalid" || bodySecret === "invalid") return "invalid";
  if (authorization !== null && /^basic /i.test(authorization)) {
    if (bodySecret !== null) return "invalid";
    const decoded = decodeBasic(authorization.slice(6).trim());
    if (decoded === null || (bodyId !== null && bodyId !== decoded.clientId)) return "invalid";
    return { ...decoded, method: "client_secret_basic" };
  }
  if (bodyId === null) return null;
  return { clientId: bodyId, secret: bodySecret, method: bodySecret === null ? "none" : "client_secret_post" };
}

export async function authenticateClient(services: ClientDeps, presented: PresentedClient): Promise<ClientAuthentication> {
  const basic = presented.method === "client_secret_basic";
  const refuse = (detail: string): ClientAuthentication => ({ status: "invalid_client", detail, basic });
  if (presented.clientId.length > 2048) return refuse("Unknown client");
  // A registered client, or one its metadata document describes (always public: method none).
  const client = await resolveClient(services, presented.clientId);
  if (client === null || client.disabled) return refuse("Unknown or disabled client");
  if (client.authMethod !== presented.method) return refuse(`The client authenticates with ${client.authMethod}`);
  if (client.authMethod === "none") return { status: "ok", client };
  if (presented.secret === null || client.secretHash === null) return refuse("Client authentication failed");
  const presentedHash = await sha256(presented.secret);
  return constantTimeEqual(presentedHash, client.secretHash) ? { status: "ok", client } : refuse("Client authentication failed");
}

function single(value: string | string[] | undefined): string | null | "invalid" {
  if (value === undefined) return null;
  return typeof value === "string" ? value : "invalid";
}

/** RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding. */
function decodeBasic(encoded: string): { clientId: string; secret: string } | null {
  let text: string;
  try {
    text = atob(encoded);
  } catch {
    return null;
  }
  const colon = text.indexOf(":");
  if (colon < 1) return null;
  try {
    const clientId = decodeURIComponent(text.slice(0, colon).replace(/\+/g, " "));
    const secret = decodeURIComponent(text.slice(colon + 1).replace(/\+/g, " "));
    return { clientId, secret };
  } catch {
    return null;
  }
}
