-- Organization-owned API keys (docs/concepts/organizations.md): a key with org_id set acts
-- for that organization; user_id is the member who made it. NULL: a user's own key.
ALTER TABLE api_keys ADD COLUMN org_id TEXT;

CREATE INDEX api_keys_org ON api_keys (org_id, created_at DESC) WHERE org_id IS NOT NULL;
