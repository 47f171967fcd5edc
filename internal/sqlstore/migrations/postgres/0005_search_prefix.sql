-- 0005: user search, a common name text. Its matches whose name_key starts
-- with it are one range of users_org_name_key, read in order; only the others
-- need sorting (see listUsersSplitPostgres). pg_trgm cannot leave rows that
-- start with a text out of a LIKE '%…%' lookup, so these indexes find the
-- others:
-- the trigram indexes of the text after the first character: a value that
-- contains a text without starting with it contains it there;
CREATE INDEX users_name_key_tail_trgm ON users USING gin (substr(name_key, 2) gin_trgm_ops);
CREATE INDEX users_email_tail_trgm ON users USING gin (substr(email, 2) gin_trgm_ops);
-- and the emails that start with it, byte-wise whatever the database's
-- collation, with name_key (to leave out the rows in the name range), id,
-- kind and status, so that an index-only scan filters them.
CREATE INDEX users_org_email_c ON users (org_id, email COLLATE "C") INCLUDE (name_key, id, kind, status);
