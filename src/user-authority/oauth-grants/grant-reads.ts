// Reads of a user's OAuth grants: the connected-apps list, the authoritative standing
// of a grant's access token, and one grant's facts.
import type { AuthorityParts } from "../parts";
import { JOINED_ROTATION_COLUMNS, type RotationRow, times } from "../rows";
import { isExpired } from "../session-policy";
import type { GrantListRow } from "./rows";
import type { TokenStanding } from "./types";
import type { GrantStatus, GrantView } from "./types";
import type { PublicUser } from "../../users/user-view";

/** The user's connected apps. */
export function listGrants(p: AuthorityParts): GrantView[] {
  if (p.schema.blank) return [];
  const now = Date.now();
  return p.state.sql
    .exec<GrantListRow>(
      `SELECT g.id, g.client_id, g.client_name, g.scopes, g.resources, g.created_at AS granted_at, s.created_at,
         s.last_activity, s.idle_ms, s.absolute_expires_at
       FROM oauth_grants g JOIN sessions s ON s.id = g.id ORDER BY s.last_activity DESC`,
    )
    .toArray()
    .filter((row) => !isExpired(times(row), now))
    .map((row) => ({
      grant_id: row.id,
      client_id: row.client_id,
      client_name: row.client_name,
      scopes: JSON.parse(row.scopes) as string[],
      resources: JSON.parse(row.resources) as string[],
      created_at: new Date(row.granted_at).toISOString(),
      // A grant's last use is its session row's: its creation, then each refresh.
      last_used_at: new Date(row.last_activity).toISOString(),
    }));
}

/** The authoritative standing of a grant's access token (introspection, UserInfo). */
export function grantStatus(p: AuthorityParts, grantId: string, issuedAtSeconds: number): GrantStatus {
  if (p.schema.blank) return { status: "inactive" };
  const facts = grantRow(p, grantId);
  if (facts === null || facts.user === null || !stands(facts, facts, issuedAtSeconds)) return { status: "inactive" };
  return {
    status: "active",
    user: facts.user,
    grant: {
      clientId: facts.client_id,
      scopes: JSON.parse(facts.scopes) as string[],
      resources: JSON.parse(facts.resources) as string[],
    },
  };
}

/**
 * The standing introspection answers with, as grantStatus decides it, in one query that
 * returns only the client and the username (read by SQLite's JSON functions, no parse here).
 */
export function grantStanding(p: AuthorityParts, grantId: string, issuedAtSeconds: number): TokenStanding | null {
  if (p.schema.blank) return null;
  const row = p.state.sql
    .exec<{
      client_id: string;
      created_at: number;
      last_activity: number;
      idle_ms: number;
      absolute_expires_at: number;
      user: number;
      username: string | null;
      not_before: string | null;
      disabled: number;
    }>(
      `SELECT g.client_id, s.created_at, s.last_activity, s.idle_ms, s.absolute_expires_at,
         EXISTS (SELECT 1 FROM meta WHERE key = 'user') AS user,
         (SELECT json_extract(value, '$.username') FROM meta WHERE key = 'user') AS username,
         (SELECT value FROM meta WHERE key = 'not_before') AS not_before,
         EXISTS (SELECT 1 FROM meta WHERE key IN ('disabled', 'locked')) AS disabled
       FROM oauth_grants g JOIN sessions s ON s.id = g.id WHERE g.id = ?`,
      grantId,
    )
    .toArray()[0];
  if (row === undefined || row.user !== 1) return null;
  const account = { disabled: row.disabled === 1, notBefore: Number(row.not_before ?? "0") };
  return stands(row, account, issuedAtSeconds) ? { clientId: row.client_id, username: row.username } : null;
}

/** A grant's access token stands: the grant has not expired, the account may act, and the token is newer than its revocation time. */
function stands(row: Parameters<typeof times>[0], account: { disabled: boolean; notBefore: number }, issuedAtSeconds: number): boolean {
  return !account.disabled && !isExpired(times(row), Date.now()) && issuedAtSeconds * 1000 >= account.notBefore;
}

export type GrantRow = RotationRow & {
  client_id: string;
  scopes: string;
  resources: string;
  /** The account's standing, as AuthorityState's loadUser, isDisabled and notBefore read it. */
  user: PublicUser | null;
  disabled: boolean;
  notBefore: number;
};

/**
 * A grant's OAuth facts, its session row's rotation columns and the account's standing,
 * in one query: every decision about a grant (a refresh, a token's standing) reads them all.
 */
export function grantRow(p: AuthorityParts, grantId: string): GrantRow | null {
  const row = p.state.sql
    .exec<
      RotationRow & {
        client_id: string;
        scopes: string;
        resources: string;
        user_json: string | null;
        not_before: string | null;
        disabled: number;
      }
    >(
      `SELECT ${JOINED_ROTATION_COLUMNS}, g.client_id, g.scopes, g.resources,
         (SELECT value FROM meta WHERE key = 'user') AS user_json,
         (SELECT value FROM meta WHERE key = 'not_before') AS not_before,
         EXISTS (SELECT 1 FROM meta WHERE key IN ('disabled', 'locked')) AS disabled
       FROM oauth_grants g JOIN sessions s ON s.id = g.id WHERE g.id = ?`,
      grantId,
    )
    .toArray()[0];
  if (row === undefined) return null;
  const { user_json: userJson, not_before: notBefore, disabled, ...facts } = row;
  return {
    ...facts,
    user: userJson === null ? null : (JSON.parse(userJson) as PublicUser),
    disabled: disabled === 1,
    notBefore: Number(notBefore ?? "0"),
  };
}
