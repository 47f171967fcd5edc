package account

import (
	"strings"
	"time"
)

// UserID identifies a user. IDs are unique across organizations, but every
// lookup also takes the organization.
type UserID int64

// Kind is the kind of a user: staff, or a community user (resident or business).
type Kind string

// The user kinds.
const (
	KindStaff    Kind = "staff"
	KindResident Kind = "resident"
	KindBusiness Kind = "business"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindStaff || k == KindResident || k == KindBusiness }

// Community reports whether k is a community kind.
func (k Kind) Community() bool { return k == KindResident || k == KindBusiness }

// Status is where an account stands.
type Status string

// The statuses of API.md.
const (
	StatusActive             Status = "active"
	StatusInvited            Status = "invited"
	StatusForcePasswordReset Status = "force_password_reset"
	StatusDisabled           Status = "disabled"
)

// AuthSource says how a user signs in.
type AuthSource string

// The sign-in sources.
const (
	AuthLocal AuthSource = "local"
	AuthSSO   AuthSource = "sso"
)

// User is an account of an organization.
type User struct {
	ID                    UserID
	OrgID                 OrgID
	Email                 string
	Name                  string
	Kind                  Kind
	Roles                 []string
	Permissions           PermissionSet // the union of the roles' permissions
	Status                Status
	LockedUntil           *time.Time
	FailedLogins          int
	AuthSource            AuthSource
	CreatedAt             time.Time
	UpdatedAt             time.Time
	LastLoginAt           *time.Time
	PasswordChangedAt     *time.Time
	RequirePasswordChange bool

	// PasswordHash is the stored hash of the password, "" when there is none.
	PasswordHash string
	// TempPasswordHash is the hash of a temporary password, "" when there is none.
	TempPasswordHash      string
	TempPasswordExpiresAt *time.Time
}

// NormalizeEmail returns the form in which emails are compared: trimmed and
// lower case.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}
