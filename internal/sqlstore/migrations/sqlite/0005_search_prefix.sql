-- 0005: PostgreSQL's indexes for the split of a name search by prefix. SQLite
-- needs none (FTS5 leaves the prefix out of its lookup itself: see
-- listUsersSplit); this keeps the schema versions of the two in step.
SELECT 1;
