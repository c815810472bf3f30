-- The credential epoch: every password change or reset advances it in the same
-- statement that writes the new hash. A sign-in carries the epoch its password check
-- read to the user's authority, which refuses it once a newer epoch is known.
ALTER TABLE users ADD COLUMN credential_epoch INTEGER NOT NULL DEFAULT 0;

-- The version of a key's record as its ApiKeyAuthority last answered it. D1 takes a
-- record only if it is newer, so racing updates end with what the authority holds.
ALTER TABLE api_keys ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- A provider link names the session (or token family) that asked for it; the callback
-- links only while the user's authority still holds that session.
ALTER TABLE oauth_states ADD COLUMN link_session_id TEXT;
