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
	// Read runs reads without a transaction: each statement sees what is
	// committed when it runs, and no two need agree. It saves a database
	// server's BEGIN and COMMIT on the hottest reads. Never write in fn.
	Read(ctx context.Context, fn func(Tx) error) error
	// Autocommit runs fn without a transaction: each statement commits on
	// its own. For writes of one statement, on the hottest paths.
	Autocommit(ctx context.Context, fn func(Tx) error) error
	// FinishSignIn writes what a successful sign-in leaves, in one
	// transaction: w.Session and w.Event (setting their IDs), then the end
	// of the attempt on the user's row, last, so that the row is locked for
	// as short a time as can be. With w.HandOver it then takes a slot of
	// the same account for a sign-in waiting in this process and returns
	// it; Admitted is false when the account admits none now (the waiter
	// then tries for itself). On PostgreSQL the whole transaction is one
	// round trip.
	FinishSignIn(ctx context.Context, w SignInWrite) (Attempt, error)
	// Ping reports whether the database is reachable.
	Ping(ctx context.Context) error
}

// Tx is one transaction. Every method that names users takes the organization;
// a user of another organization is ErrNotFound, exactly like a missing one.
// Missing rows are reported as errors matching ErrNotFound (errors.Is).
type Tx interface {
	OutboxTx
	ImportTx
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

	// UpdateRole renames the organization's role old and/or replaces its
	// permissions with r's (r.Name is the new name). A taken name is an
	// *Error with CodeConflict; a missing role ErrNotFound.
	UpdateRole(ctx context.Context, org OrgID, old string, r Role) error
	// DeleteRole removes a role that no user holds; a held role is an *Error
	// with CodeRoleInUse, a missing one ErrNotFound.
	DeleteRole(ctx context.Context, org OrgID, name string) error
	// CountUsersWithRole counts the organization's users holding the role,
	// leaving out disabled users when activeOnly.
	CountUsersWithRole(ctx context.Context, org OrgID, role string, activeOnly bool) (int, error)
	// LockOrg serializes the transactions that check an organization-wide
	// rule (such as "one administrator must remain") until this one ends.
	LockOrg(ctx context.Context, org OrgID) error

	// ListUsers returns one page of the organization's users matching f, in
	// the order (FoldName(name), id), starting after f.After.
	ListUsers(ctx context.Context, org OrgID, f UserFilter) ([]User, error)

	// CreateUser inserts u (u.OrgID set, u.Email already normalized) with its
	// roles, and sets u.ID. An email already used in the organization is an
	// *Error with CodeEmailTaken; an unknown role name is an *Error with
	// CodeValidation.
	CreateUser(ctx context.Context, u *User) error
	// CreateUsers inserts several users of one organization in a few
	// statements (an import), setting their IDs. Any taken email fails the
	// whole call with CodeEmailTaken; an unknown role with CodeValidation.
	CreateUsers(ctx context.Context, org OrgID, us []*User) error
	// UsersByEmails returns the users with these emails, with their roles,
	// keyed by normalized email, in a few statements.
	UsersByEmails(ctx context.Context, org OrgID, emails []string) (map[string]User, error)
	// AppendAudits inserts several events in a few statements.
	AppendAudits(ctx context.Context, es []*AuditEvent) error
	// UserByID returns the user with its roles and the union of their
	// permissions. Within Tx (not View) it locks the user's row on
	// PostgreSQL until the transaction ends, so read-modify-write is safe.
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
	// BeginLoginAttempt takes one of the account's sign-in slots before its
	// password is checked, in one atomic statement: admitted while failures
	// plus attempts in flight stay under max, so that however many attempts
	// arrive at once, in however many processes, at most max wrong
	// passwords are evaluated before the lock. An expired lock is cleared.
	// Not admitted, the answer says whether the account is locked or only
	// busy (retry shortly).
	BeginLoginAttempt(ctx context.Context, org OrgID, id UserID, max int, now time.Time) (Attempt, error)
	// EndLoginAttempt gives the slot back with the outcome and returns
	// failed_logins: a failure adds one; a success clears the failures that
	// came before the attempt began (e.Earlier) and, when the rest stay
	// under e.MaxFailures, the lock, and sets last_login_at; failures of
	// attempts that ran alongside it stand. An abandoned attempt (the hash
	// could not run) changes nothing else.
	EndLoginAttempt(ctx context.Context, org OrgID, id UserID, e AttemptEnd, now time.Time) (int, error)
	// LockUser sets locked_until unless the user is already locked at now,
	// and reports whether it did, so that user.locked is recorded once.
	LockUser(ctx context.Context, org OrgID, id UserID, until, now time.Time) (bool, error)
	// RecordLogin resets failed_logins and locked_until and sets last_login_at.
	RecordLogin(ctx context.Context, org OrgID, id UserID, at time.Time) error
	// ReplacePasswordHash swaps the stored hash old for new (a transparent
	// rehash); it does nothing when the hash changed in the meantime.
	ReplacePasswordHash(ctx context.Context, org OrgID, id UserID, old, new string) error

	// AddPasswordHistory keeps a replaced password hash for the history
	// rule, and drops all but the user's newest keep.
	AddPasswordHistory(ctx context.Context, org OrgID, user UserID, hash string, at time.Time, keep int) error
	// PasswordHistory returns the user's newest n replaced hashes, newest first.
	PasswordHistory(ctx context.Context, org OrgID, user UserID, n int) ([]string, error)

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

// SignInWrite is what Store.FinishSignIn writes. The organization and user
// are the session's.
type SignInWrite struct {
	Session  *Session
	Event    *AuditEvent
	End      AttemptEnd
	At       time.Time
	HandOver bool
}

// Attempt is the answer of Tx.BeginLoginAttempt.
type Attempt struct {
	Admitted bool
	Locked   bool
	Failures int
}

// AttemptEnd is how an admitted sign-in attempt ended, and what its
// success may clear.
type AttemptEnd struct {
	Outcome     AttemptOutcome
	Earlier     int // failed_logins when the attempt was admitted
	MaxFailures int // the organization's lockout limit; 0: none
}

// AttemptOutcome is how an admitted sign-in attempt ended.
type AttemptOutcome int

// The outcomes of an attempt.
const (
	AttemptAbandoned AttemptOutcome = iota
	AttemptSucceeded
	AttemptFailed
)
