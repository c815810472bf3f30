-- Security events a user can read about their own account (login, revocation, ...).
CREATE TABLE security_events (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  device TEXT,
  location TEXT,
  detail TEXT
);

CREATE INDEX security_events_user_at ON security_events (user_id, at DESC);
CREATE INDEX security_events_at ON security_events (at);
