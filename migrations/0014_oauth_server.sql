-- The OAuth 2.1 authorization server (docs/concepts/oauth-server.md). Clients are
-- records: registered by an admin or by dynamic client registration (RFC 7591). Grants,
-- codes, consents and pending authorization requests are not here: each user's
-- authority (its Durable Object) owns them, like the user's other credentials.
CREATE TABLE oauth_server_clients (
  client_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- 'admin' or 'dcr'
  source TEXT NOT NULL,
  -- 'none' (a public client), 'client_secret_basic' or 'client_secret_post'
  auth_method TEXT NOT NULL,
  -- SHA-256 of the client secret (confidential clients), base64url
  secret_hash TEXT,
  -- JSON arrays
  redirect_uris TEXT NOT NULL,
  grant_types TEXT NOT NULL,
  -- JSON array of the scopes it may ask for; NULL: every scope the server offers
  scopes TEXT,
  -- JSON array of the resources it may ask for; NULL: every configured resource
  resources TEXT,
  first_party INTEGER NOT NULL DEFAULT 0,
  require_aal INTEGER NOT NULL DEFAULT 1,
  introspection INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  id_token_alg TEXT NOT NULL DEFAULT 'RS256',
  client_uri TEXT,
  logo_uri TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_used_at TEXT
);
-- The purge of dynamically registered clients nobody used (scheduled.ts).
CREATE INDEX oauth_server_clients_unused ON oauth_server_clients (source, last_used_at, created_at);

-- The provider's own signing keys when the operator configured none of a kind (the RS256
-- key ID tokens need): the private JWK sealed with SECRET_KEY (lib/secret-box.ts).
-- Generated once: the first row of a kid wins (INSERT OR IGNORE), every isolate reads it back.
CREATE TABLE oauth_server_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  sealed_jwk TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- Who authorized which client: written by each user's authority with the grant (its
-- outbox), so disabling a client can end its grants at every user's authority. A row may
-- outlive the grants (they end in many ways); the authority is asked, and says.
CREATE TABLE oauth_server_authorizations (
  client_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  first_at TEXT NOT NULL,
  last_at TEXT NOT NULL,
  PRIMARY KEY (client_id, user_id)
);
CREATE INDEX oauth_server_authorizations_user ON oauth_server_authorizations (user_id);
