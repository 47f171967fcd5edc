package web

import (
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// userJSON is API.md's User object. Secrets are never part of it.
type userJSON struct {
	ID                    account.UserID     `json:"id"`
	Email                 string             `json:"email"`
	Name                  string             `json:"name"`
	Kind                  account.Kind       `json:"kind"`
	Roles                 []string           `json:"roles"`
	Status                account.Status     `json:"status"`
	LockedUntil           *string            `json:"locked_until"`
	FailedLogins          int                `json:"failed_logins"`
	AuthSource            account.AuthSource `json:"auth_source"`
	CreatedAt             string             `json:"created_at"`
	UpdatedAt             string             `json:"updated_at"`
	LastLoginAt           *string            `json:"last_login_at"`
	PasswordChangedAt     *string            `json:"password_changed_at"`
	RequirePasswordChange bool               `json:"require_password_change"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func rfc3339p(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := rfc3339(*t)
	return &s
}

func toUser(u account.User) userJSON {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return userJSON{
		ID: u.ID, Email: u.Email, Name: u.Name, Kind: u.Kind, Roles: roles, Status: u.Status,
		LockedUntil: rfc3339p(u.LockedUntil), FailedLogins: u.FailedLogins, AuthSource: u.AuthSource,
		CreatedAt: rfc3339(u.CreatedAt), UpdatedAt: rfc3339(u.UpdatedAt), LastLoginAt: rfc3339p(u.LastLoginAt),
		PasswordChangedAt: rfc3339p(u.PasswordChangedAt), RequirePasswordChange: u.RequirePasswordChange,
	}
}

type sessionJSON struct {
	ID         account.SessionID `json:"id"`
	Device     string            `json:"device"`
	IP         string            `json:"ip"`
	CreatedAt  string            `json:"created_at"`
	LastSeenAt string            `json:"last_seen_at"`
	ExpiresAt  string            `json:"expires_at"`
	Current    bool              `json:"current"`
}

func toSessions(ss []account.Session, current account.SessionID) []sessionJSON {
	out := make([]sessionJSON, 0, len(ss))
	for _, s := range ss {
		out = append(out, sessionJSON{ID: s.ID, Device: s.UserAgent, IP: s.IP, CreatedAt: rfc3339(s.CreatedAt),
			LastSeenAt: rfc3339(s.LastSeenAt), ExpiresAt: rfc3339(s.ExpiresAt), Current: s.ID == current})
	}
	return out
}

type ruleJSON struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}
