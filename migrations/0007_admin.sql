-- Administration. `disabled` is the record of what the user's authority decided (the
-- authority refuses the sign-ins); `name_normalized` is the lower-cased name for the
-- admin search, which, like email and username, is a case-insensitive prefix match.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN name_normalized TEXT;
UPDATE users SET name_normalized = lower(name) WHERE name IS NOT NULL;
-- When the user last signed in (a record, written after each sign-in): the admin list
-- asks the authority of users who ever did, and needs no call for those who never did.
ALTER TABLE users ADD COLUMN last_login_at TEXT;

-- The admin list walks users newest first by (created_at, id): keyset pagination reads
-- this index from the cursor on, never an offset.
CREATE INDEX users_newest ON users (created_at DESC, id DESC);
CREATE INDEX users_name_normalized ON users (name_normalized);

-- Who did it, for events an admin caused (admin_* types); null when the user did.
ALTER TABLE security_events ADD COLUMN actor_id TEXT;
CREATE INDEX security_events_newest ON security_events (at DESC, id DESC);
CREATE INDEX security_events_type_at ON security_events (type, at DESC);
