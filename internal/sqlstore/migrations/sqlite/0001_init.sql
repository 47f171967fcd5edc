-- 0001: organizations, roles, users, sessions, challenges, audit log.
-- Times are TEXT 'YYYY-MM-DDTHH:MM:SS.ffffffZ' in UTC, which sorts as time does.
-- AUTOINCREMENT keeps a deleted user's ID from being reused, since audit
-- events still name it. Never edit this file once shipped; add 0002.

CREATE TABLE orgs (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	slug       TEXT    NOT NULL UNIQUE,
	name       TEXT    NOT NULL,
	settings   TEXT    NOT NULL DEFAULT '{}',
	created_at TEXT    NOT NULL
) STRICT;

CREATE TABLE roles (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id  INTEGER NOT NULL REFERENCES orgs (id),
	name    TEXT    NOT NULL,
	builtin INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
	UNIQUE (org_id, name)
) STRICT;

CREATE TABLE role_permissions (
	role_id    INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
	permission TEXT    NOT NULL,
	PRIMARY KEY (role_id, permission)
) STRICT;

CREATE TABLE users (
	id                       INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id                   INTEGER NOT NULL REFERENCES orgs (id),
	email                    TEXT    NOT NULL, -- normalized: trimmed, lower case
	name                     TEXT    NOT NULL,
	kind                     TEXT    NOT NULL,
	status                   TEXT    NOT NULL,
	auth_source              TEXT    NOT NULL,
	password_hash            TEXT    NOT NULL DEFAULT '',
	temp_password_hash       TEXT    NOT NULL DEFAULT '',
	temp_password_expires_at TEXT,
	require_password_change  INTEGER NOT NULL DEFAULT 0 CHECK (require_password_change IN (0, 1)),
	locked_until             TEXT,
	failed_logins            INTEGER NOT NULL DEFAULT 0,
	last_login_at            TEXT,
	password_changed_at      TEXT,
	created_at               TEXT    NOT NULL,
	updated_at               TEXT    NOT NULL,
	UNIQUE (org_id, email),
	UNIQUE (org_id, id) -- target of the (org_id, user_id) foreign keys below
) STRICT;

CREATE INDEX users_org_name ON users (org_id, name, id);

CREATE TABLE user_roles (
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role_id INTEGER NOT NULL REFERENCES roles (id),
	PRIMARY KEY (user_id, role_id)
) STRICT;

CREATE INDEX user_roles_role ON user_roles (role_id);

-- The (org_id, user_id) foreign keys make a row of one organization unable
-- to point at a user of another.
CREATE TABLE password_history (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id     INTEGER NOT NULL,
	user_id    INTEGER NOT NULL,
	hash       TEXT    NOT NULL,
	created_at TEXT    NOT NULL,
	FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX password_history_user ON password_history (user_id, id);

CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id       INTEGER NOT NULL,
	user_id      INTEGER NOT NULL,
	token_hash   BLOB    NOT NULL UNIQUE,
	created_at   TEXT    NOT NULL,
	last_seen_at TEXT    NOT NULL,
	expires_at   TEXT    NOT NULL,
	ip           TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT '',
	FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE challenges (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id      INTEGER NOT NULL,
	user_id     INTEGER NOT NULL,
	kind        TEXT    NOT NULL,
	token_hash  BLOB    NOT NULL UNIQUE,
	created_at  TEXT    NOT NULL,
	expires_at  TEXT    NOT NULL,
	consumed_at TEXT,
	FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX challenges_user ON challenges (user_id);

-- No foreign keys on actor_id and target_id: the log outlives deleted users.
CREATE TABLE audit_events (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id     INTEGER NOT NULL REFERENCES orgs (id),
	at         TEXT    NOT NULL,
	action     TEXT    NOT NULL,
	actor_id   INTEGER,
	target_id  INTEGER,
	ip         TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT '',
	outcome    TEXT    NOT NULL,
	details    TEXT    NOT NULL DEFAULT '{}'
) STRICT;

CREATE INDEX audit_events_org ON audit_events (org_id, id);
CREATE INDEX audit_events_actor ON audit_events (org_id, actor_id, id);
CREATE INDEX audit_events_target ON audit_events (org_id, target_id, id);
