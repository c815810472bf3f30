-- Single-use tokens sent by mail (email verification, password reset). Only a hash of
-- the token is stored; consuming it is one conditional UPDATE, so it works once.
CREATE TABLE mail_tokens (
  token_hash TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL,
  purpose TEXT NOT NULL,                 -- 'verify_email' | 'password_reset'
  email TEXT NOT NULL,                   -- normalized address the token was sent to
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);

CREATE INDEX mail_tokens_email_purpose ON mail_tokens (email, purpose, created_at);
CREATE INDEX mail_tokens_user ON mail_tokens (user_id);

-- The development mail adapter's outbox (MAIL_PROVIDER=dev): what would have been sent.
CREATE TABLE mail_outbox (
  id TEXT PRIMARY KEY NOT NULL,
  to_address TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE INDEX mail_outbox_to ON mail_outbox (to_address, created_at);
