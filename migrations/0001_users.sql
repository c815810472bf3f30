-- Accounts. Email and username are unique case-insensitively through their
-- normalized columns; the display forms keep what the user typed.
CREATE TABLE users (
  id TEXT PRIMARY KEY NOT NULL,
  email TEXT NOT NULL,
  email_normalized TEXT NOT NULL,
  username TEXT,
  username_normalized TEXT,
  name TEXT,
  password_hash TEXT,
  email_verified INTEGER NOT NULL DEFAULT 0,
  is_superuser INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE UNIQUE INDEX users_email_normalized_unique ON users (email_normalized);
CREATE UNIQUE INDEX users_username_normalized_unique ON users (username_normalized);
