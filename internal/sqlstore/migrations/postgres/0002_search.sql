-- 0002: user search. name_key is account.FoldName(name) (accents removed,
-- lower case, spaces collapsed), written by the store beside the name; the
-- list is ordered by (name_key, id). Rows of 0001 get their name_key from
-- the Go step that runs after this file in the same transaction.
-- COLLATE "C" makes the order, the keyset comparisons and the index byte-wise,
-- as in SQLite, whatever the database's collation.
-- pg_trgm GIN indexes serve substring search (LIKE '%…%') on name_key and
-- email; shorter than three characters, a pattern has no trigram and the
-- planner walks users_org_name_key instead.

ALTER TABLE users ADD COLUMN name_key TEXT COLLATE "C" NOT NULL DEFAULT '';

DROP INDEX users_org_name;
-- The list's order. With email, kind and status, an index-only scan can
-- filter a walk on the index alone.
CREATE INDEX users_org_name_key ON users (org_id, name_key, id) INCLUDE (email, kind, status);

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_name_key_trgm ON users USING gin (name_key gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);
