// Reads of a user's OAuth grants: the connected-apps list, the authoritative standing
// of a grant's access token, and one grant's facts.
import type { AuthorityParts } from "../parts";
import { JOINED_ROTATION_COLUMNS, type RotationRow, times } from "../rows";
import { isExpired } from "../session-policy";
import type { GrantListRow } from "./rows";
import type { TokenStanding } from "./types";
import type { GrantStatus, GrantView } from "./types";
import { ACCOUNT_STANDING_COLUMNS, type AccountStandingColumns, accountStanding } from "../state";

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
  const facts = rememberedGrantRow(p, grantId);
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

/** The same standing, with only what introspection answers (a smaller reply than the user's whole record). */
export function grantStanding(p: AuthorityParts, grantId: string, issuedAtSeconds: number): TokenStanding | null {
  const status = grantStatus(p, grantId, issuedAtSeconds);
  return status.status === "active" ? { clientId: status.grant.clientId, username: status.user.username } : null;
}

/**
 * The memory of `grantRow` for token checks, per object: a token is checked far more often
 * than anything here is written, and a remembered row is dropped as soon as any statement
 * that may write has run (`LazySchema.writes`), rolled back or not. What depends on the
 * clock (expiry) is still decided on each use.
 */
const rememberedRows = new WeakMap<AuthorityParts, { writes: number; rows: Map<string, GrantRow | null> }>();
const REMEMBERED_ROWS = 64;

function rememberedGrantRow(p: AuthorityParts, grantId: string): GrantRow | null {
  let memo = rememberedRows.get(p);
  if (memo === undefined || memo.writes !== p.schema.writes) {
    memo = { writes: p.schema.writes, rows: new Map() };
    rememberedRows.set(p, memo);
  }
  const known = memo.rows.get(grantId);
  if (known !== undefined) return known;
  const read = grantRow(p, grantId);
  // Frozen on the first answer as on every later one: no caller can change what is remembered.
  const row = read === null ? null : Object.freeze(read);
  if (memo.rows.size >= REMEMBERED_ROWS) memo.rows.clear();
  memo.rows.set(grantId, row);
  return row;
}

export type GrantRow = RotationRow & {
  client_id: string;
  scopes: string;
  resources: string;
} & ReturnType<typeof accountStanding>;

/**
 * A grant's OAuth facts, its session row's rotation columns and the account's standing,
 * in one query: every decision about a grant (a refresh, a token's standing) reads them all.
 */
export function grantRow(p: AuthorityParts, grantId: string): GrantRow | null {
  const row = p.state.sql
    .exec<RotationRow & AccountStandingColumns & { client_id: string; scopes: string; resources: string }>(
      `SELECT ${JOINED_ROTATION_COLUMNS}, g.client_id, g.scopes, g.resources, ${ACCOUNT_STANDING_COLUMNS}
       FROM oauth_grants g JOIN sessions s ON s.id = g.id WHERE g.id = ?`,
      grantId,
    )
    .toArray()[0];
  if (row === undefined) return null;
  const { user_json: _user, not_before: _notBefore, disabled: _disabled, ...facts } = row;
  return { ...facts, ...accountStanding(row) };
}
