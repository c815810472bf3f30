// The oauth_server_clients table: records of clients. Reads by primary key only.
import type { ClientRow, OAuthClient } from "./client-record";
import { fromRow } from "./client-record";

export async function findClient(db: D1Database, clientId: string): Promise<OAuthClient | null> {
  const row = await db.prepare("SELECT * FROM oauth_server_clients WHERE client_id = ?").bind(clientId).first<ClientRow>();
  return row === null ? null : fromRow(row);
}

export async function insertClient(db: D1Database, client: OAuthClient): Promise<void> {
  await insertClientStatement(db, client).run();
}

/** The insert as a statement, for a batch that writes the admin's audit entry with it. */
export function insertClientStatement(db: D1Database, client: OAuthClient): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO oauth_server_clients (client_id, name, source, auth_method, secret_hash, redirect_uris, grant_types, scopes,
         resources, first_party, require_aal, introspection, disabled, id_token_alg, client_uri, logo_uri, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(client.clientId, ...clientValues(client), client.createdAt, client.createdAt);
}

export async function updateClient(db: D1Database, client: OAuthClient): Promise<void> {
  await db
    .prepare(
      `UPDATE oauth_server_clients SET name = ?, source = ?, auth_method = ?, secret_hash = ?, redirect_uris = ?, grant_types = ?,
         scopes = ?, resources = ?, first_party = ?, require_aal = ?, introspection = ?, disabled = ?, id_token_alg = ?,
         client_uri = ?, logo_uri = ?, updated_at = ?
       WHERE client_id = ?`,
    )
    .bind(...clientValues(client), new Date().toISOString(), client.clientId)
    .run();
}

export async function listClients(db: D1Database, options: { limit: number; after: string | null }): Promise<OAuthClient[]> {
  const { results } = await db
    .prepare("SELECT * FROM oauth_server_clients WHERE client_id > ? ORDER BY client_id LIMIT ?")
    .bind(options.after ?? "", options.limit)
    .all<ClientRow>();
  return results.map(fromRow);
}

export async function deleteClient(db: D1Database, clientId: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM oauth_server_clients WHERE client_id = ?").bind(clientId).run();
  return result.meta.changes > 0;
}

/** Dynamically registered clients no one used for `days` (or ever, registered that long ago) are deleted. */
export async function purgeUnusedClients(db: D1Database, days: number): Promise<number> {
  const before = new Date(Date.now() - days * 86_400_000).toISOString();
  const result = await db
    .prepare("DELETE FROM oauth_server_clients WHERE source = 'dcr' AND COALESCE(last_used_at, created_at) < ?")
    .bind(before)
    .run();
  return result.meta.changes;
}

const TOUCH_EVERY_MS = 3_600_000;
/** When this isolate last marked each client used: a busy client costs one D1 write an hour per isolate, not one per token. */
const touched = new Map<string, number>();

/** Marks a client used (at most once an hour), so the purge keeps it. */
export async function touchClient(db: D1Database, clientId: string): Promise<void> {
  const now = Date.now();
  const last = touched.get(clientId);
  if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
  if (touched.size >= 1_000) touched.delete(touched.keys().next().value as string);
  touched.set(clientId, now);
  await db
    .prepare("UPDATE oauth_server_clients SET last_used_at = ? WHERE client_id = ? AND (last_used_at IS NULL OR last_used_at < ?)")
    .bind(new Date(now).toISOString(), clientId, new Date(now - TOUCH_EVERY_MS).toISOString())
    .run()
    .catch((error: unknown) => {
      // Not marked: the next token request tries again.
      touched.delete(clientId);
      throw error;
    });
}

/** The columns after client_id, in the table's order up to logo_uri. */
function clientValues(client: OAuthClient): (string | number | null)[] {
  return [
    client.name,
    client.source,
    client.authMethod,
    client.secretHash,
    JSON.stringify(client.redirectUris),
    JSON.stringify(client.grantTypes),
    client.scopes === null ? null : JSON.stringify(client.scopes),
    client.resources === null ? null : JSON.stringify(client.resources),
    client.firstParty ? 1 : 0,
    client.requireAal,
    client.introspection ? 1 : 0,
    client.disabled ? 1 : 0,
    client.idTokenAlg,
    client.clientUri,
    client.logoUri,
  ];
}

/** Records of who authorized a client, past the longest a grant can live (400 days): the grants ended long ago. */
export async function purgeOldAuthorizations(db: D1Database): Promise<number> {
  const before = new Date(Date.now() - 400 * 86_400_000).toISOString();
  const result = await db.prepare("DELETE FROM oauth_server_authorizations WHERE last_at < ?").bind(before).run();
  return result.meta.changes;
}
