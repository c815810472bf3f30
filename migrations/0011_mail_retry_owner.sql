-- Whose mail a retry is (the account the recipient address belonged to when it was kept),
-- so deleting the account drops its pending mail; and when a retry was sent, so a send
-- whose row could not be deleted afterwards is not sent again (retry-queue.ts). Rows kept
-- before this migration have no owner: they are sent as before.
ALTER TABLE mail_retry ADD COLUMN user_id TEXT;
ALTER TABLE mail_retry ADD COLUMN sent_at INTEGER;
CREATE INDEX mail_retry_user ON mail_retry (user_id) WHERE user_id IS NOT NULL;
