-- Proving an address (docs/concepts/accounts.md, "Proving an address"). `address_proven`
-- records that the account's credential holder proved the address: by a password reset,
-- by a verification confirmed while signed in to the account, or by a provider that
-- vouched for it when the account was made. Only such an account is linked to a provider
-- by email, and only then does an ADMIN_EMAILS address make a superuser. The user's
-- authority holds the ordered truth; this is its record (and the seed for accounts from
-- before it kept one: an address verified until now counts as proven by its holder).
ALTER TABLE users ADD COLUMN address_proven INTEGER NOT NULL DEFAULT 0;
UPDATE users SET address_proven = email_verified;

-- An app code carries when the credential it came from was made (the provider link, or
-- the callback itself): one from before a proof of the address signs nobody in.
ALTER TABLE oauth_codes ADD COLUMN made_at TEXT;
