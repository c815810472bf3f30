// What the OAuth server keeps in each user's authority, as schema steps appended to the
// authority's own (user-authority/schema.ts). A grant is a row of `sessions` of kind
// "oauth" (so logout-all, a password change, disable and deletion end it with the
// user's other credentials, and its refresh token rotates like a token family's), plus
// its OAuth facts in `oauth_grants`, which a trigger removes with the session row.
import type { SchemaStep } from "../../lib/sqlite-schema";

export const OAUTH_AUTHORITY_SCHEMA: readonly SchemaStep[] = [
  // Authorization requests waiting for the user's consent (10 minutes each).
  "CREATE TABLE oauth_requests (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, request TEXT NOT NULL, expires_at INTEGER NOT NULL)",
  // Authorization codes (60 s): the secret's hash, the request they answer, and the grant
  // their first use made (a second use ends it, RFC 6749 §4.1.2). Kept a while after use.
  `CREATE TABLE oauth_codes (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    session_id TEXT NOT NULL,
    request TEXT NOT NULL,
    aal INTEGER NOT NULL,
    amr TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    grant_id TEXT
  )`,
  `CREATE TABLE oauth_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    client_name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    resources TEXT NOT NULL,
    refresh INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
  )`,
  "CREATE INDEX oauth_grants_client ON oauth_grants (client_id)",
  // What the user consented to, per client: a request within it is not asked again.
  "CREATE TABLE oauth_consents (client_id TEXT PRIMARY KEY, scopes TEXT NOT NULL, resources TEXT NOT NULL, granted_at INTEGER NOT NULL)",
  `CREATE TRIGGER oauth_grant_ended AFTER DELETE ON sessions WHEN OLD.kind = 'oauth'
   BEGIN
     DELETE FROM oauth_grants WHERE id = OLD.id;
   END`,
  // A grant's refresh token rotates like a token family's: the rotated-out hash is kept for reuse detection.
  (sql) => {
    sql.exec("DROP TRIGGER IF EXISTS refresh_rotated");
    sql.exec(`CREATE TRIGGER refresh_rotated AFTER UPDATE OF secret_hash ON sessions
      WHEN OLD.kind IN ('token', 'oauth') AND OLD.secret_hash <> NEW.secret_hash
      BEGIN
        INSERT OR IGNORE INTO refresh_history (family_id, secret_hash, rotated_at) VALUES (OLD.id, OLD.secret_hash, NEW.last_activity);
      END`);
  },
  // A grant's last use is its session row's last_activity (written by each refresh anyway): no second write per refresh.
  "ALTER TABLE oauth_grants DROP COLUMN last_used_at",
];

/** The OAuth tables an account's deletion empties (the grants' session rows go with `sessions`). */
export const OAUTH_ACCOUNT_TABLES = ["oauth_requests", "oauth_codes", "oauth_grants", "oauth_consents"] as const;
