-- Provider identities linked to users: one user may link several providers.
CREATE TABLE oauth_accounts (
  provider TEXT NOT NULL,
  provider_user_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  email TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (provider, provider_user_id)
);

CREATE INDEX oauth_accounts_user ON oauth_accounts (user_id);

-- Pending OAuth logins: one row per `state`, deleted when used (single use), 10 minutes.
CREATE TABLE oauth_states (
  state_hash TEXT PRIMARY KEY NOT NULL,
  provider TEXT NOT NULL,
  binding_hash TEXT NOT NULL,            -- SHA-256 of the browser-binding cookie
  code_verifier TEXT NOT NULL,           -- PKCE verifier for the provider
  nonce TEXT NOT NULL,
  redirect_to TEXT NOT NULL,
  mode TEXT NOT NULL,                    -- 'redirect' | 'json'
  link_user_id TEXT,                     -- set when a signed-in user links a provider
  app_redirect_uri TEXT,                 -- mobile: the app's redirect URI
  app_code_challenge TEXT,               -- mobile: PKCE challenge between the app and us
  app_state TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

-- One-time codes handed to a mobile app after OAuth login, exchanged at /auth/token.
CREATE TABLE oauth_codes (
  code_hash TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
