-- Mail that could not be sent (the provider down or refusing) waits here for the cron,
-- sealed (AES-GCM, the MFA encryption keys): a mailed link is a credential. A message
-- that still fails after its last try is kept, dead (next_at NULL), for 7 days.
CREATE TABLE mail_retry (
  id TEXT PRIMARY KEY,
  box TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX mail_retry_due ON mail_retry (next_at) WHERE next_at IS NOT NULL;
