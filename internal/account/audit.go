package account

import "time"

// Action names an audited event; the strings are API.md's.
type Action string

// The audit actions.
const (
	ActionUserCreated        Action = "user.created"
	ActionUserUpdated        Action = "user.updated"
	ActionUserDeleted        Action = "user.deleted"
	ActionPasswordSet        Action = "user.password_set"
	ActionTempPasswordIssued Action = "user.temporary_password_issued"
	ActionPasswordChanged    Action = "user.password_changed"
	ActionResetEmailSent     Action = "user.reset_email_sent"
	ActionResetRequested     Action = "user.reset_requested"
	ActionPasswordReset      Action = "user.password_reset"
	ActionWelcomeEmailSent   Action = "user.welcome_email_sent"
	ActionEmailResent        Action = "email.resent"
	ActionLogin              Action = "user.login"
	ActionLoginFailed        Action = "user.login_failed"
	ActionLogout             Action = "user.logout"
	ActionLocked             Action = "user.locked"
	ActionUnlocked           Action = "user.unlocked"
	ActionSessionsRevoked    Action = "user.sessions_revoked"
	ActionOrgCreated         Action = "org.created"
	ActionOrgUpdated         Action = "org.updated"
)

// Outcome is how an audited attempt ended.
type Outcome string

// The outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
)

// AuditEvent is one append-only entry of an organization's audit log. It never
// holds a password, token or hash.
type AuditEvent struct {
	ID        int64
	OrgID     OrgID
	At        time.Time
	Action    Action
	ActorID   *UserID
	TargetID  *UserID
	IP        string
	UserAgent string
	Outcome   Outcome
	Details   map[string]any
}

// AuditFilter selects audit events; zero fields match everything.
type AuditFilter struct {
	ActorID  *UserID
	TargetID *UserID
	Action   Action
	Since    time.Time
	Until    time.Time
	BeforeID int64 // keyset cursor: only events with a smaller ID
	Limit    int
}
