// The UserAuthority's SQLite schema, as ordered steps (see lib/sqlite-schema.ts).
// Objects created before the step list existed already have the first four tables
// (CREATE ... IF NOT EXISTS makes those steps harmless for them).
import type { SchemaStep } from "../lib/sqlite-schema";
import { OAUTH_AUTHORITY_SCHEMA } from "./oauth-grants/schema";

export const USER_AUTHORITY_SCHEMA: readonly SchemaStep[] = [
  `CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    csrf_hash TEXT,
    created_at INTEGER NOT NULL,
    last_activity INTEGER NOT NULL,
    cached_activity INTEGER NOT NULL,
    idle_ms INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    browser TEXT NOT NULL,
    os TEXT NOT NULL,
    device_type TEXT NOT NULL,
    country TEXT,
    city TEXT
  )`,
  // Hashes of refresh tokens already rotated out of a family, for reuse detection.
  `CREATE TABLE IF NOT EXISTS refresh_history (
    secret_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    rotated_at INTEGER NOT NULL
  )`,
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  // Devices (browser, OS, type) the user has signed in from, for new-device notices.
  "CREATE TABLE IF NOT EXISTS devices (device_key TEXT PRIMARY KEY, first_seen INTEGER NOT NULL)",
  // The credential epoch a session was created under (see credentialsChanged).
  "ALTER TABLE sessions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0",
  // The user's unrevoked API keys: the one exact count behind MAX_ACTIVE_KEYS_PER_USER.
  "CREATE TABLE api_keys (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)",
  // Mailed tokens sent in the last hour, per purpose and address: the exact mail cap.
  "CREATE TABLE mail_sends (id INTEGER PRIMARY KEY AUTOINCREMENT, purpose TEXT NOT NULL, address TEXT NOT NULL, at INTEGER NOT NULL)",
  // KV keys whose last write failed; the alarm writes them again.
  "CREATE TABLE cache_dirty (key TEXT PRIMARY KEY)",
  // Ending a family deletes its history by family id: without an index, a scan of every family's.
  "CREATE INDEX IF NOT EXISTS refresh_history_family ON refresh_history (family_id)",
  // A rotation is one statement: the UPDATE of a family's hash records the old hash here.
  `CREATE TRIGGER IF NOT EXISTS refresh_rotated AFTER UPDATE OF secret_hash ON sessions
   WHEN OLD.kind = 'token' AND OLD.secret_hash <> NEW.secret_hash
   BEGIN
     INSERT OR IGNORE INTO refresh_history (secret_hash, family_id, rotated_at) VALUES (OLD.secret_hash, OLD.id, NEW.last_activity);
   END`,
  // The history keyed by family first, in one B-tree (no rowid, no second index): a
  // rotation writes next to the family's earlier hashes, and ending a family is one range.
  (sql) => {
    sql.exec("DROP TRIGGER IF EXISTS refresh_rotated");
    sql.exec(`CREATE TABLE refresh_history_by_family (
      family_id TEXT NOT NULL,
      secret_hash TEXT NOT NULL,
      rotated_at INTEGER NOT NULL,
      PRIMARY KEY (family_id, secret_hash)
    ) WITHOUT ROWID`);
    sql.exec("INSERT INTO refresh_history_by_family SELECT family_id, secret_hash, rotated_at FROM refresh_history");
    sql.exec("DROP TABLE refresh_history");
    sql.exec("ALTER TABLE refresh_history_by_family RENAME TO refresh_history");
    sql.exec(`CREATE TRIGGER refresh_rotated AFTER UPDATE OF secret_hash ON sessions
      WHEN OLD.kind = 'token' AND OLD.secret_hash <> NEW.secret_hash
      BEGIN
        INSERT OR IGNORE INTO refresh_history (family_id, secret_hash, rotated_at) VALUES (OLD.id, OLD.secret_hash, NEW.last_activity);
      END`);
  },
  // Assurance (aal, amr) of each session, and its last re-authentication; sessions from
  // before were one-factor sign-ins. A session's auth_time is its created_at: a session
  // is only ever created by a completed sign-in.
  (sql) => {
    sql.exec("ALTER TABLE sessions ADD COLUMN aal INTEGER NOT NULL DEFAULT 1");
    sql.exec(`ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '["pwd"]'`);
    sql.exec("ALTER TABLE sessions ADD COLUMN reauth_at INTEGER");
  },
  // Second factors: TOTP (secret sealed, see lib/secret-box.ts) and passkeys. A TOTP
  // factor is pending until its first code confirms it.
  `CREATE TABLE factors (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    active INTEGER NOT NULL,
    secret_box TEXT,
    credential_id TEXT UNIQUE,
    public_key TEXT,
    counter INTEGER NOT NULL DEFAULT 0,
    transports TEXT,
    device_type TEXT,
    backed_up INTEGER,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  )`,
  // SHA-256 of each unused recovery code (120-bit codes: see mfa/recovery-codes.ts).
  "CREATE TABLE recovery_codes (code_hash TEXT PRIMARY KEY)",
  // Sign-ins waiting for their second factor (the mfa_token's hash), 5 minutes each.
  `CREATE TABLE mfa_pending (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    session TEXT NOT NULL,
    answer TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
  )`,
  // Wrong second factors in the current window (the per-user throttle), and WebAuthn
  // challenges already answered (single use), kept until they would have expired.
  "CREATE TABLE mfa_failures (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL)",
  "CREATE TABLE used_challenges (challenge_hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)",
  // What a proof of the address still has to end outside this object (see
  // address-proof.ts): the API keys at their own objects, and the D1 records of keys,
  // provider links and app codes made before it. Kept until done; the alarm retries.
  "CREATE TABLE proof_cleanup (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, proven_at INTEGER NOT NULL, key_ids TEXT NOT NULL)",
  // Admin audit entries queued with the change they record, until D1 has them (audit-outbox.ts).
  "CREATE TABLE audit_outbox (id TEXT PRIMARY KEY, event TEXT NOT NULL)",
  // Wrong passwords in the current window: the account's login throttle (password-ops.ts).
  "CREATE TABLE login_failures (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL)",
  // The outcomes of the last minute's logout-like calls, by nonce, for a retry (caller-ops.ts).
  "CREATE TABLE caller_acts (nonce TEXT PRIMARY KEY, outcome TEXT NOT NULL, at INTEGER NOT NULL)",
  // The OAuth server's requests, codes, grants and consents (oauth-server/authority/schema.ts).
  // Steps of either list are only ever appended; a step for the core after these goes here, below.
  ...OAUTH_AUTHORITY_SCHEMA,
  // The organization a session or token family acts in (POST /api/v1/auth/active-org); NULL: personal.
  "ALTER TABLE sessions ADD COLUMN active_org TEXT",
  // The user's standing in each organization as it last told it (org-standings.ts); NULL standing: not a member.
  "CREATE TABLE org_standings (org_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, standing TEXT)",
  // Mailed sign-ins waiting to be used: magic links, and the one live email code (email-sign-ins.ts).
  `CREATE TABLE email_sign_ins (id TEXT PRIMARY KEY, kind TEXT NOT NULL, secret_hash TEXT NOT NULL, browser_hash TEXT,
     transport TEXT NOT NULL, redirect_to TEXT, epoch INTEGER NOT NULL, expires_at INTEGER NOT NULL, attempts INTEGER NOT NULL)`,
  // The address a link or code was mailed to: one mailed to an address the account no longer has opens nothing.
  "ALTER TABLE email_sign_ins ADD COLUMN email TEXT NOT NULL DEFAULT ''",
  // A passwordless proof's password clearing in D1 (only while D1's credential epoch is behind this one).
  "ALTER TABLE proof_cleanup ADD COLUMN password_epoch INTEGER",
];
