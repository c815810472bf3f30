// Reads of a user's OAuth grants: the connected-apps list, the authoritative standing
// of a grant's access token, and one grant's facts.
import type { AuthorityParts } from "../parts";
import { times } from "../rows";
import { isExpired } from "../session-policy";
import type { GrantListRow } from "./rows";
import type { GrantStatus, GrantView } from "./types";

/** The user's connected apps. */
export function listGrants(p: AuthorityParts): GrantView[] {
  if (p.schema.blank) return [];
  const now = Date.now();
  return p.state.sql
    .exec<GrantListRow>(
      `SELECT g.id, g.client_id, g.client_name, g.scopes, g.resources, g.created_at AS granted_at, g.last_used_at, s.created_at,
         s.last_activity, s.idle_ms, s.absolute_expires_at
       FROM oauth_grants g JOIN sessions s ON s.id = g.id ORDER BY g.last_used_at DESC`,
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
      last_used_at: new Date(row.last_used_at).toISOString(),
    }));
}

/** The authoritative standing of a grant's access token (introspection, UserInfo). */
export function grantStatus(p: AuthorityParts, grantId: string, issuedAtSeconds: number): GrantStatus {
  if (p.schema.blank) return { status: "inactive" };
  const { state } = p;
  const user = state.loadUser();
  const row = state.row(grantId);
  const facts = grantRow(p, grantId);
  if (user === null || row === null || facts === null || state.isDisabled() || isExpired(times(row), Date.now())) {
    return { status: "inactive" };
  }
  if (issuedAtSeconds * 1000 < state.notBefore()) return { status: "inactive" };
  return {
    status: "active",
    user,
    grant: {
      clientId: facts.client_id,
      scopes: JSON.parse(facts.scopes) as string[],
      resources: JSON.parse(facts.resources) as string[],
    },
  };
}

export function grantRow(p: AuthorityParts, grantId: string): { client_id: string; scopes: string; resources: string } | null {
  return (
    p.state.sql
      .exec<{ client_id: string; scopes: string; resources: string }>(
        "SELECT client_id, scopes, resources FROM oauth_grants WHERE id = ?",
        grantId,
      )
      .toArray()[0] ?? null
  );
}
