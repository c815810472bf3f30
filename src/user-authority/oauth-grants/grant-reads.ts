// Reads of a user's OAuth grants: the connected-apps list, the authoritative standing
// of a grant's access token, and one grant's facts.
import type { AuthorityParts } from "../parts";
import { JOINED_ROTATION_COLUMNS, type RotationRow, times } from "../rows";
import { isExpired } from "../session-policy";
import type { GrantListRow } from "./rows";
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
  if (facts === null || facts.user === null || facts.disabled || isExpired(times(facts), Date.now())) return { status: "inactive" };
  if (issuedAtSeconds * 1000 < facts.notBefore) return { status: "inactive" };
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
