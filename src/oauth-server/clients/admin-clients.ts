// Clients as an admin manages them: registered with a type, redirect URIs, the scopes and
// resources they may ask for, first_party (no consent), require_aal and, for resource
// servers, introspection; edited, disabled and deleted. Disabling or deleting a client
// ends every grant users gave it, at each user's authority (oauth_server_authorizations
// says whom to ask).
import type { z } from "zod";
import type { Services } from "../../services/services";
import { isDevelopmentEnvironment } from "../../config/config";
import { randomToken, sha256 } from "../../lib/crypto";
import { logError } from "../../lib/log";
import { eventStatement } from "../../events/record-event";
import { grantsOf } from "../grant-client";
import type { OAuthClient } from "./client-record";
import type { createClientBody, updateClientBody } from "./admin-schemas";
import { deleteClient, findClient, insertClientStatement, updateClient } from "./client-store";
import { redirectUriProblem } from "./redirect-uri";
import { forgetClient } from "./resolve-client";

export type ClientChange = { ok: true; client: OAuthClient; secret: string | null } | { ok: false; path: string; message: string };

export function clientView(client: OAuthClient): Record<string, unknown> {
  return {
    client_id: client.clientId,
    name: client.name,
    source: client.source,
    type: client.authMethod === "none" ? "public" : "confidential",
    token_endpoint_auth_method: client.authMethod,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    scopes: client.scopes,
    resources: client.resources,
    first_party: client.firstParty,
    require_aal: client.requireAal,
    introspection: client.introspection,
    disabled: client.disabled,
    id_token_signed_response_alg: client.idTokenAlg,
    created_at: client.createdAt,
  };
}

function checkRules(client: OAuthClient, development: boolean): { path: string; message: string } | null {
  for (const [index, uri] of client.redirectUris.entries()) {
    const problem = redirectUriProblem(uri, { development });
    if (problem !== null) return { path: `redirect_uris.${index}`, message: `The redirect URI ${problem}` };
  }
  if (client.grantTypes.includes("authorization_code") && client.redirectUris.length === 0) {
    return { path: "redirect_uris", message: "The authorization_code grant needs at least one redirect URI" };
  }
  const confidential = client.authMethod !== "none";
  if (client.grantTypes.includes("client_credentials") && !confidential)
    return { path: "grant_types", message: "client_credentials needs a confidential client" };
  if (client.introspection && !confidential) return { path: "introspection", message: "Only a confidential client may introspect" };
  // A resource server learns only about tokens for its own resources: it must name them.
  if (client.introspection && (client.resources === null || client.resources.length === 0)) {
    return { path: "resources", message: "A resource server that introspects must name its resources" };
  }
  for (const [index, resource] of (client.resources ?? []).entries()) {
    if (!URL.canParse(resource) || resource.includes("#"))
      return { path: `resources.${index}`, message: "A resource is an absolute URI without a fragment" };
  }
  return null;
}

/** Registers a client; the admin's audit entry (oauth_client_registered) is written in the same batch. */
export async function createClient(
  services: Pick<Services, "d1" | "config">,
  adminId: string,
  input: z.output<typeof createClientBody>,
): Promise<ClientChange> {
  const secret = input.type === "confidential" ? randomToken(32) : null;
  const client: OAuthClient = {
    clientId: `oc_${randomToken(18)}`,
    name: input.name,
    source: "admin",
    authMethod: input.type === "confidential" ? "client_secret_basic" : "none",
    secretHash: secret === null ? null : await sha256(secret),
    redirectUris: input.redirect_uris,
    grantTypes: [...new Set(input.grant_types)],
    scopes: input.scopes,
    resources: input.resources,
    firstParty: input.first_party,
    requireAal: input.require_aal,
    introspection: input.introspection,
    disabled: input.disabled,
    idTokenAlg: input.id_token_signed_response_alg,
    clientUri: null,
    logoUri: null,
    createdAt: new Date().toISOString(),
  };
  const problem = checkRules(client, isDevelopmentEnvironment(services.config.environment));
  if (problem !== null) return { ok: false, ...problem };
  await services.d1.batch([
    insertClientStatement(services.d1, client),
    eventStatement(services.d1, {
      userId: adminId,
      actorId: adminId,
      type: "oauth_client_registered",
      client: null,
      detail: { client_id: client.clientId },
    }),
  ]);
  return { ok: true, client, secret };
}

export async function changeClient(
  services: Pick<Services, "d1" | "config" | "authority">,
  clientId: string,
  input: z.output<typeof updateClientBody>,
): Promise<ClientChange | null> {
  const known = await findClient(services.d1, clientId);
  if (known === null) return null;
  const secret = input.rotate_secret === true && known.authMethod !== "none" ? randomToken(32) : null;
  const client: OAuthClient = {
    ...known,
    name: input.name ?? known.name,
    redirectUris: input.redirect_uris ?? known.redirectUris,
    grantTypes: input.grant_types === undefined ? known.grantTypes : [...new Set(input.grant_types)],
    scopes: input.scopes === undefined ? known.scopes : input.scopes,
    resources: input.resources === undefined ? known.resources : input.resources,
    firstParty: input.first_party ?? known.firstParty,
    requireAal: input.require_aal ?? known.requireAal,
    introspection: input.introspection ?? known.introspection,
    disabled: input.disabled ?? known.disabled,
    idTokenAlg: input.id_token_signed_response_alg ?? known.idTokenAlg,
    secretHash: secret === null ? known.secretHash : await sha256(secret),
  };
  const problem = checkRules(client, isDevelopmentEnvironment(services.config.environment));
  if (problem !== null) return { ok: false, ...problem };
  await updateClient(services.d1, client);
  forgetClient(clientId);
  if (client.disabled && !known.disabled) await endClientGrants(services, clientId);
  return { ok: true, client, secret };
}

export async function removeClient(services: Pick<Services, "d1" | "authority">, clientId: string): Promise<boolean> {
  // Disabled first: no new grant is made while the existing ones are ended; then the record goes.
  const known = await findClient(services.d1, clientId);
  if (known === null) return false;
  if (!known.disabled) await updateClient(services.d1, { ...known, disabled: true });
  forgetClient(clientId);
  await endClientGrants(services, clientId);
  return deleteClient(services.d1, clientId);
}

const SWEEP_BATCH = 25;

/**
 * Ends the client's grants at every authority that has some (the authorizations record
 * says which users), then forgets those records. A user whose authority failed keeps
 * their record: the scheduled sweep asks again (sweepDisabledClients).
 */
export async function endClientGrants(services: Pick<Services, "d1" | "authority">, clientId: string): Promise<number> {
  let ended = 0;
  for (;;) {
    const { results } = await services.d1
      .prepare("SELECT user_id FROM oauth_server_authorizations WHERE client_id = ? ORDER BY user_id LIMIT ?")
      .bind(clientId, SWEEP_BATCH)
      .all<{ user_id: string }>();
    if (results.length === 0) return ended;
    const outcomes = await Promise.allSettled(results.map((row) => grantsOf(services.authority, row.user_id).revokeClient(clientId)));
    const done = results.filter((_, index) => outcomes[index]?.status === "fulfilled").map((row) => row.user_id);
    for (const outcome of outcomes) if (outcome.status === "fulfilled") ended += outcome.value;
    if (done.length === 0) throw new Error("no authority answered");
    await services.d1.batch(
      done.map((userId) =>
        services.d1.prepare("DELETE FROM oauth_server_authorizations WHERE client_id = ? AND user_id = ?").bind(clientId, userId),
      ),
    );
  }
}

/** The scheduled sweep: grants of disabled clients whose ending did not finish. */
export async function sweepDisabledClients(services: Pick<Services, "d1" | "authority">): Promise<number> {
  const { results } = await services.d1
    .prepare(
      `SELECT DISTINCT a.client_id FROM oauth_server_authorizations a
       LEFT JOIN oauth_server_clients c ON c.client_id = a.client_id
       WHERE c.client_id IS NULL OR c.disabled = 1 LIMIT 20`,
    )
    .all<{ client_id: string }>();
  let ended = 0;
  for (const row of results) {
    ended += await endClientGrants(services, row.client_id).catch((error: unknown) => {
      logError("oauth_client_sweep_failed", error);
      return 0;
    });
  }
  return ended;
}
