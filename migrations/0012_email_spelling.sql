-- Contract v1.2: an address is stored trimmed, in Unicode NFC, with its domain lower-cased,
-- and users.email_normalized (the unique key) is that form lower-cased (src/users/email.ts).
-- For ASCII addresses the key is what it always was (trimmed, lower-cased): no key changes.
--
-- SQLite has no Unicode normalization, so this fixes exactly what SQL can:
-- 1. The KELVIN, ANGSTROM and OHM signs are the only characters whose NFC form is another
--    letter (K, Å, Ω) while the old key already held that letter's lower case. A row
--    registered with one ("\u212Aate@") held the real address's key but had its mail sent
--    to the lookalike spelling (security finding 9): it now holds the real spelling.
-- 2. The domain's ASCII letters are lower-cased (lower() folds ASCII only; A-labels are
--    ASCII). Neither step changes a key, so no unique conflict can arise.
-- Rows whose address is otherwise not NFC (decomposed accents, compatibility ideographs)
-- keep their old key; this lists every non-ASCII address, for an operator to review:
--   SELECT id, email, email_normalized FROM users WHERE email GLOB '*[^ -~]*';
UPDATE users
SET email = replace(replace(replace(email, char(8490), 'K'), char(8491), char(197)), char(8486), char(937))
WHERE email <> replace(replace(replace(email, char(8490), 'K'), char(8491), char(197)), char(8486), char(937));

UPDATE users
SET email = substr(email, 1, instr(email, '@')) || lower(substr(email, instr(email, '@') + 1))
WHERE instr(email, '@') > 0
  AND substr(email, instr(email, '@') + 1) <> lower(substr(email, instr(email, '@') + 1));
