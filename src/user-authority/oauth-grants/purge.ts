// The bounds of what the OAuth server keeps in a user's authority, and the alarm's purge
// of it (parts.ts calls these beside its own purge). Grants are session rows: the
// authority's session purge ends them when they expire.

export const OAUTH_LIMITS = {
  requestMs: 10 * 60_000,
  codeMs: 60_000,
  /** A used code is kept this long after it expires, so its replay is still recognized. */
  codeKeptMs: 10 * 60_000,
  pendingRequests: 20,
  /** Clients whose consent a user's authority remembers; the least recently given is forgotten first. */
  consents: 100,
  /** Grants per user; a new one beyond it ends the least recently used. */
  grants: 50,
  /** Grants per user and client (devices signed in to one app); checked before the user's cap. */
  grantsPerClient: 10,
  /** A grant with a refresh token ends this long after it began, however much it is used (it slides below that). */
  grantAbsoluteMs: 400 * 86_400_000,
};

/** Expired requests, and codes past their replay watch. */
export function purgeOAuth(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM oauth_requests WHERE expires_at <= ?", now);
  sql.exec("DELETE FROM oauth_codes WHERE expires_at + ? <= ?", OAUTH_LIMITS.codeKeptMs, now);
}

/** When the next request or code is due for the purge (null: none). */
export function nextOAuthPurge(sql: SqlStorage): number | null {
  return sql
    .exec<{ at: number | null }>(
      `SELECT MIN(at) AS at FROM (SELECT MIN(expires_at) AS at FROM oauth_requests
         UNION ALL SELECT MIN(expires_at) + ? AS at FROM oauth_codes)`,
      OAUTH_LIMITS.codeKeptMs,
    )
    .one().at;
}

/**
 * What ends with every session of the user (logout-all, a password change or reset, a
 * disable, a proof of the address): with the grants (session rows), the waiting
 * requests, the codes and the remembered consent go too. Otherwise an app someone
 * consented to while holding the account (an intruder, or whoever registered the
 * address before its owner proved it) would get a code silently (`prompt=none`) the
 * next time the owner's browser is sent to it, and a code issued just before could
 * still be redeemed into a new grant.
 */
export function forgetOAuthDelegations(sql: SqlStorage): void {
  sql.exec("DELETE FROM oauth_requests");
  sql.exec("DELETE FROM oauth_codes");
  sql.exec("DELETE FROM oauth_consents");
}

/** A disabled client's consent, waiting requests and unused codes at this user, with or without grants: re-enabling it brings nothing back. */
export function forgetClient(sql: SqlStorage, clientId: string): void {
  sql.exec("DELETE FROM oauth_consents WHERE client_id = ?", clientId);
  sql.exec("DELETE FROM oauth_requests WHERE json_extract(request, '$.clientId') = ?", clientId);
  sql.exec("DELETE FROM oauth_codes WHERE used_at IS NULL AND json_extract(request, '$.clientId') = ?", clientId);
}
