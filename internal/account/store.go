package account

import (
	"context"
	"time"
)

// Store persists accounts. The one implementation is sqlstore, over SQLite and
// PostgreSQL; its conformance suite is sqlstore/storetest.
type Store interface {
	// Tx runs fn in one read-write transaction, committed when fn returns nil
	// and rolled back otherwise. Never hash a password inside fn.
	Tx(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the database is reachable.
	Ping(ctx context.Context) error
}

// Tx is one transaction. Every method that names users takes the organization;
// a user of another organization is ErrNotFound, exactly like a missing one.
// Missing rows are reported as errors matching ErrNotFound (errors.Is).
type Tx interface {
	// CreateOrg inserts o and sets o.ID and o.CreatedAt; a taken slug is an
	// *Error with CodeOrgTaken.
	CreateOrg(ctx context.Context, o *Org) error
	OrgBySlug(ctx context.Context, slug string) (Org, error)
	OrgByID(ctx context.Context, id OrgID) (Org, error)
	// OrgCount returns the number of organizations.
	OrgCount(ctx context.Context) (int, error)
	UpdateOrgSettings(ctx context.Context, id OrgID, s Settings) error

	// CreateRole inserts a role of r.OrgID with its permissions.
	CreateRole(ctx context.Context, r Role) error
	// Roles lists the organization's roles by name.
	Roles(ctx context.Context, org OrgID) ([]Role, error)

	// CreateUser inserts u (u.OrgID set, u.Email already normalized) with its
	// roles, and sets u.ID. An email already used in the organization is an
	// *Error with CodeEmailTaken; an unknown role name is an *Error with
	// CodeValidation.
	CreateUser(ctx context.Context, u *User) error
	// UserByID returns the user with its roles and the union of their permissions.
	UserByID(ctx context.Context, org OrgID, id UserID) (User, error)
	// UserByEmail looks the user up by normalized email.
	UserByEmail(ctx context.Context, org OrgID, email string) (User, error)
	// UpdateUser writes u's mutable fields (email, name, status, auth source,
	// password hash, temporary password, require_password_change, lockout,
	// failed logins, last login, password changed, updated at). Roles are
	// written by SetUserRoles.
	UpdateUser(ctx context.Context, u *User) error
	// SetUserRoles replaces the user's roles; an unknown name is CodeValidation.
	SetUserRoles(ctx context.Context, org OrgID, id UserID, roles []string) error
	// DeleteUser removes the user, its sessions and challenges.
	DeleteUser(ctx context.Context, org OrgID, id UserID) error
	// RecordLoginFailure atomically adds one to failed_logins and returns the
	// new count, correct when several processes do so at once.
	RecordLoginFailure(ctx context.Context, org OrgID, id UserID, at time.Time) (int, error)
	// RecordLogin resets failed_logins and locked_until and sets last_login_at.
	RecordLogin(ctx context.Context, org OrgID, id UserID, at time.Time) error
	// ReplacePasswordHash swaps the stored hash old for new (a transparent
	// rehash); it does nothing when the hash changed in the meantime.
	ReplacePasswordHash(ctx context.Context, org OrgID, id UserID, old, new string) error

	// CreateSession inserts s and sets s.ID.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash finds a session by the digest of its token. The
	// token is the credential, so this is the one lookup not keyed by org.
	SessionByTokenHash(ctx context.Context, hash []byte) (Session, error)
	// TouchSession sets the session's last_seen_at.
	TouchSession(ctx context.Context, id SessionID, at time.Time) error
	// DeleteSession ends one session of the user.
	DeleteSession(ctx context.Context, org OrgID, user UserID, id SessionID) error
	// DeleteUserSessions ends every session of the user except keep (0: none
	// kept) and returns how many ended.
	DeleteUserSessions(ctx context.Context, org OrgID, user UserID, keep SessionID) (int, error)
	// UserSessions lists the user's sessions, newest first.
	UserSessions(ctx context.Context, org OrgID, user UserID) ([]Session, error)

	// CreateChallenge inserts c and sets c.ID.
	CreateChallenge(ctx context.Context, c *Challenge) error
	// ChallengeByTokenHash returns the unconsumed, unexpired challenge with
	// this digest, without using it up; otherwise ErrNotFound.
	ChallengeByTokenHash(ctx context.Context, hash []byte, now time.Time) (Challenge, error)
	// ConsumeChallenge uses up the unexpired challenge with this digest in one
	// conditional statement, so it succeeds once even under concurrency;
	// otherwise ErrNotFound.
	ConsumeChallenge(ctx context.Context, hash []byte, now time.Time) (Challenge, error)
	// DeleteUserChallenges removes every challenge of the user.
	DeleteUserChallenges(ctx context.Context, org OrgID, user UserID) error

	// AppendAudit inserts e and sets e.ID.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// AuditEvents lists the organization's events, newest first.
	AuditEvents(ctx context.Context, org OrgID, f AuditFilter) ([]AuditEvent, error)
}

// Clock tells the time; tests use a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
