-- 0002: user search. name_key is account.FoldName(name) (accents removed,
-- lower case, spaces collapsed), written by the store beside the name; the
-- list is ordered by (name_key, id). Rows of 0001 get their name_key from
-- the Go step that runs after this file in the same transaction.
-- users_fts indexes name_key and email by trigrams for substring search;
-- the triggers keep it in step with users.

ALTER TABLE users ADD COLUMN name_key TEXT NOT NULL DEFAULT '';

DROP INDEX users_org_name;
-- The list's order. email, kind and status let a walk filter on the index
-- alone and read the table only for the rows it returns.
CREATE INDEX users_org_name_key ON users (org_id, name_key, id, email, kind, status);

-- External content: the index holds only trigrams and rowids; users holds
-- the text. The data is already folded, so the tokenizer need not fold.
CREATE VIRTUAL TABLE users_fts USING fts5(
	name_key, email,
	content = 'users', content_rowid = 'id',
	tokenize = 'trigram case_sensitive 1'
);

CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN
	INSERT INTO users_fts (rowid, name_key, email) VALUES (new.id, new.name_key, new.email);
END;

CREATE TRIGGER users_fts_delete AFTER DELETE ON users BEGIN
	INSERT INTO users_fts (users_fts, rowid, name_key, email) VALUES ('delete', old.id, old.name_key, old.email);
END;

CREATE TRIGGER users_fts_update AFTER UPDATE OF name_key, email ON users
WHEN old.name_key IS NOT new.name_key OR old.email IS NOT new.email BEGIN
	INSERT INTO users_fts (users_fts, rowid, name_key, email) VALUES ('delete', old.id, old.name_key, old.email);
	INSERT INTO users_fts (rowid, name_key, email) VALUES (new.id, new.name_key, new.email);
END;

INSERT INTO users_fts (users_fts) VALUES ('rebuild');
