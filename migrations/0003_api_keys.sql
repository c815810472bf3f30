-- API keys: the management record (listing, audit). The per-key ApiKeyAuthority Durable
-- Object holds the copy that authenticates requests and enforces rate limits.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY NOT NULL,          -- the 8-character key id inside the key
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,                  -- "<API_KEY_PREFIX>_<id>", shown in lists
  secret_hash TEXT NOT NULL,             -- SHA-256 of the secret part
  permissions TEXT NOT NULL,             -- JSON {"resource": ["action", ...]}
  requests_per_minute INTEGER,
  requests_per_day INTEGER,
  expires_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revoked_at TEXT,
  last_used_at TEXT,
  last_used_ip TEXT
);

CREATE INDEX api_keys_user ON api_keys (user_id, created_at DESC);

-- Exact usage counts per key, hour, endpoint (route pattern), method and status.
CREATE TABLE api_key_usage (
  key_id TEXT NOT NULL,
  hour TEXT NOT NULL,                    -- "YYYY-MM-DDTHH" UTC
  endpoint TEXT NOT NULL,
  method TEXT NOT NULL,
  status INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (key_id, hour, endpoint, method, status)
);
