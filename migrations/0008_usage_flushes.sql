-- How far each API key's usage buffer has been written to api_key_usage: the id of the
-- newest buffered use in the last batch that landed. A batch whose answer was lost (the
-- key's object reset, or D1 failed after committing) is sent again under the same id,
-- and its rows are then skipped, so no use is counted twice. One row per key.
CREATE TABLE api_key_usage_flushes (
  key_id TEXT PRIMARY KEY,
  through_id INTEGER NOT NULL
);
