-- 0006: import jobs.
--
-- A bulk import too large to finish within its request is kept here, with
-- the uploaded file, and run by whichever process holds its lease
-- (lease_until): a process that dies lets the lease lapse and another claims
-- the job and resumes it from processed. The file is emptied when the job
-- ends. actor_id has no foreign key, like the audit log's: the job's record
-- outlives the user who started it, and IDs are never reused.
CREATE TABLE import_jobs (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id         INTEGER NOT NULL REFERENCES orgs (id),
	actor_id       INTEGER,
	status         TEXT    NOT NULL CHECK (status IN ('running', 'done', 'failed')),
	all_or_nothing INTEGER NOT NULL DEFAULT 0 CHECK (all_or_nothing IN (0, 1)),
	format         TEXT    NOT NULL CHECK (format IN ('csv', 'xlsx')),
	file           BLOB    NOT NULL DEFAULT x'',
	total          INTEGER NOT NULL DEFAULT 0,
	processed      INTEGER NOT NULL DEFAULT 0,
	created        INTEGER NOT NULL DEFAULT 0,
	updated        INTEGER NOT NULL DEFAULT 0,
	unchanged      INTEGER NOT NULL DEFAULT 0,
	failed         INTEGER NOT NULL DEFAULT 0,
	result         TEXT    NOT NULL DEFAULT '',
	error          TEXT    NOT NULL DEFAULT '',
	lease_until    TEXT,
	created_at     TEXT    NOT NULL,
	updated_at     TEXT    NOT NULL,
	finished_at    TEXT
) STRICT;

CREATE INDEX import_jobs_claim ON import_jobs (status, lease_until);
CREATE INDEX import_jobs_org ON import_jobs (org_id, id);
