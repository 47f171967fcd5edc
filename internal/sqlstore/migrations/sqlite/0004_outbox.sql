-- 0004: the email outbox and reset tokens.
--
-- An email is written in the transaction of the change that causes it and
-- sent by the mail worker, which claims due entries by setting claimed_until
-- (a lease: a worker that dies mid-send lets it lapse and another takes the
-- entry over). Bodies are emptied once sent; the row keeps the metadata.
-- user_id has no foreign key, like the audit log's: an entry outlives its
-- user, and IDs are never reused (AUTOINCREMENT), so it cannot come to name
-- someone else.
CREATE TABLE emails (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id          INTEGER NOT NULL REFERENCES orgs (id),
	user_id         INTEGER,
	to_addr         TEXT    NOT NULL,
	from_name       TEXT    NOT NULL,
	template        TEXT    NOT NULL,
	subject         TEXT    NOT NULL,
	text_body       TEXT    NOT NULL,
	html_body       TEXT    NOT NULL,
	status          TEXT    NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	next_attempt_at TEXT    NOT NULL,
	claimed_until   TEXT,
	created_at      TEXT    NOT NULL,
	sent_at         TEXT
) STRICT;

CREATE INDEX emails_due ON emails (status, next_attempt_at, id);
CREATE INDEX emails_user ON emails (org_id, user_id, id);
CREATE INDEX emails_org ON emails (org_id, id);

-- A reset or welcome link (token_hash: SHA-256 of 32 random bytes) and its
-- 8-digit code (code_hash, salted). Single use: consumed_at is set by one
-- conditional UPDATE. They go with their user.
CREATE TABLE reset_tokens (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id        INTEGER NOT NULL,
	user_id       INTEGER NOT NULL,
	purpose       TEXT    NOT NULL,
	token_hash    BLOB    NOT NULL UNIQUE,
	code_hash     BLOB    NOT NULL DEFAULT x'',
	code_salt     BLOB    NOT NULL DEFAULT x'',
	code_attempts INTEGER NOT NULL DEFAULT 0,
	created_at    TEXT    NOT NULL,
	expires_at    TEXT    NOT NULL,
	consumed_at   TEXT,
	FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX reset_tokens_user ON reset_tokens (org_id, user_id, id);
