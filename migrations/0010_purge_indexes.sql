-- The clean-up deletes expired OAuth states and app codes by expiry: without these, a scan.
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);
CREATE INDEX mail_tokens_expires ON mail_tokens (expires_at);
-- API-key usage past the longest report (365 days) is deleted by hour.
CREATE INDEX api_key_usage_hour ON api_key_usage (hour);
