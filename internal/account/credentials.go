package account

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// TempPassword is a temporary password just issued: shown once, never again.
type TempPassword struct {
	Password  Secret
	ExpiresAt time.Time
	User      User
}

func errUserDisabled() *Error {
	return &Error{Code: CodeUserDisabled, Message: "This user is disabled; enable the account first."}
}

// cleanReason trims an optional reason (a ticket number, say) for the audit log.
func cleanReason(r string) (string, error) {
	r = strings.TrimSpace(r)
	if utf8.RuneCountInString(r) > 500 || strings.ContainsFunc(r, func(c rune) bool { return c < 0x20 && c != '\t' }) {
		return "", &Error{Code: CodeValidation, Message: "Some values are not valid.",
			Details: []Detail{{Field: "reason", Message: "Must be at most 500 characters, on one line."}}}
	}
	return r, nil
}

func withReason(d map[string]any, reason string) map[string]any {
	if reason != "" {
		if d == nil {
			d = map[string]any{}
		}
		d["reason"] = reason
	}
	return d
}

// loadManaged reads a user and checks that the actor may apply v to it.
func (s *Service) loadManaged(ctx context.Context, a Actor, id UserID, v verb) (Org, User, error) {
	var (
		o Org
		u User
	)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.UserByID(ctx, a.OrgID, id); err != nil {
			return notFound(err)
		}
		if err := a.canManage(u, v); err != nil {
			return err
		}
		o, err = tx.OrgByID(ctx, a.OrgID)
		return err
	})
	return o, u, err
}

// IssueTemporaryPassword gives the user a new generated password, valid for
// the organization's temporary_password_hours and only for choosing a new
// password at the next sign-in. It replaces any earlier temporary password,
// retires the current password, ends every session, clears a lockout and
// sets the status to force_password_reset. Returns not_found, forbidden
// (without *.read and *.update for the user's kind, or for a user holding
// permissions the actor lacks), user_disabled, sso_managed, overloaded.
func (s *Service) IssueTemporaryPassword(ctx context.Context, a Actor, id UserID, reason string) (TempPassword, error) {
	const op = "account.IssueTemporaryPassword"
	reason, err := cleanReason(reason)
	if err != nil {
		return TempPassword{}, wrap(op, err)
	}
	o, u, err := s.loadManaged(ctx, a, id, verbUpdate)
	if err != nil {
		return TempPassword{}, wrap(op, err)
	}
	if err := credentialTarget(o, u); err != nil {
		return TempPassword{}, wrap(op, err)
	}
	plain, hash, exp, err := s.newTemporary(ctx, o, u)
	if err != nil {
		return TempPassword{}, wrap(op, err)
	}
	var out User
	err = s.store.Tx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, a.OrgID, id)
		if err != nil {
			return notFound(err)
		}
		if err := a.canManage(u, verbUpdate); err != nil {
			return err
		}
		if err := credentialTarget(o, u); err != nil {
			return err
		}
		now := s.now()
		u.TempPasswordHash, u.TempPasswordExpiresAt = hash, &exp
		u.Status = StatusForcePasswordReset
		u.LockedUntil, u.FailedLogins = nil, 0
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		if err := tx.InvalidateResetTokens(ctx, a.OrgID, u.ID); err != nil {
			return err
		}
		if err := s.endSessions(ctx, tx, a, u.ID, "temporary_password", reason); err != nil {
			return err
		}
		if err := s.append(ctx, tx, a.event(ActionTempPasswordIssued, &u.ID, OutcomeSuccess,
			withReason(map[string]any{"expires_at": exp.Format(time.RFC3339)}, reason))); err != nil {
			return err
		}
		out, err = tx.UserByID(ctx, a.OrgID, u.ID)
		return err
	})
	if err != nil {
		return TempPassword{}, wrap(op, err)
	}
	return TempPassword{Password: plain, ExpiresAt: exp, User: out}, nil
}

// credentialTarget refuses credential changes for disabled and SSO users.
func credentialTarget(o Org, u User) error {
	if u.Status == StatusDisabled {
		return errUserDisabled()
	}
	if u.AuthSource == AuthSSO {
		return errSSOManaged(o)
	}
	return nil
}

// endSessions ends every session and pending challenge of the user and
// records it.
func (s *Service) endSessions(ctx context.Context, tx Tx, a Actor, id UserID, cause, reason string) error {
	n, err := tx.DeleteUserSessions(ctx, a.OrgID, id, 0)
	if err != nil {
		return err
	}
	if err := tx.DeleteUserChallenges(ctx, a.OrgID, id); err != nil {
		return err
	}
	return s.append(ctx, tx, a.event(ActionSessionsRevoked, &id, OutcomeSuccess,
		withReason(map[string]any{"sessions": n, "cause": cause}, reason)))
}

// Unlock clears a lockout: locked_until becomes null and failed_logins 0.
// Returns not_found or forbidden (needs *.read and *.update of the kind).
func (s *Service) Unlock(ctx context.Context, a Actor, id UserID, reason string) (User, error) {
	const op = "account.Unlock"
	reason, err := cleanReason(reason)
	if err != nil {
		return User{}, wrap(op, err)
	}
	var out User
	err = s.store.Tx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, a.OrgID, id)
		if err != nil {
			return notFound(err)
		}
		if err := a.canManage(u, verbUpdate); err != nil {
			return err
		}
		d := map[string]any{"failed_logins": u.FailedLogins}
		if u.LockedUntil != nil {
			d["locked_until"] = u.LockedUntil.Format(time.RFC3339)
		}
		u.LockedUntil, u.FailedLogins, u.UpdatedAt = nil, 0, s.now()
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		if err := s.append(ctx, tx, a.event(ActionUnlocked, &u.ID, OutcomeSuccess, withReason(d, reason))); err != nil {
			return err
		}
		out, err = tx.UserByID(ctx, a.OrgID, u.ID)
		return err
	})
	return out, wrap(op, err)
}

// UserSessions lists a user's sessions. Returns not_found.
func (s *Service) UserSessions(ctx context.Context, a Actor, id UserID) ([]Session, error) {
	var ss []Session
	err := s.store.View(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, a.OrgID, id)
		if err != nil {
			return notFound(err)
		}
		if err := a.canManage(u, verbRead); err != nil {
			return err
		}
		ss, err = tx.UserSessions(ctx, a.OrgID, id)
		return err
	})
	return ss, wrap("account.UserSessions", err)
}

// RevokeUserSessions signs the user out everywhere. Returns not_found or
// forbidden (needs *.update of the kind, and no takeover upward).
func (s *Service) RevokeUserSessions(ctx context.Context, a Actor, id UserID, reason string) error {
	const op = "account.RevokeUserSessions"
	reason, err := cleanReason(reason)
	if err != nil {
		return wrap(op, err)
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, a.OrgID, id)
		if err != nil {
			return notFound(err)
		}
		if err := a.canManage(u, verbUpdate); err != nil {
			return err
		}
		return s.endSessions(ctx, tx, a, u.ID, "admin", reason)
	})
	return wrap(op, err)
}

// AuditQuery selects audit events.
type AuditQuery struct {
	ActorID, TargetID *UserID
	Action            string
	Since, Until      time.Time
	Cursor            string
	Limit             int
}

// AuditPage is one page of events, newest first, and the next page's cursor.
type AuditPage struct {
	Events     []AuditEvent
	NextCursor string
}

// Audit lists the organization's audit events, newest first. Returns
// forbidden without audit.read, invalid_cursor.
func (s *Service) Audit(ctx context.Context, a Actor, q AuditQuery) (AuditPage, error) {
	const op = "account.Audit"
	if !a.Has(PermAuditRead) {
		return AuditPage{}, wrap(op, errForbidden)
	}
	limit := q.Limit
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 500 {
		return AuditPage{}, wrap(op, &Error{Code: CodeValidation, Message: "Some values are not valid.",
			Details: []Detail{{Field: "limit", Message: "Must be between 1 and 500."}}})
	}
	f := AuditFilter{ActorID: q.ActorID, TargetID: q.TargetID, Action: Action(q.Action), Since: q.Since, Until: q.Until, Limit: limit + 1}
	if q.Cursor != "" {
		n, err := decodeAuditCursor(q.Cursor)
		if err != nil {
			return AuditPage{}, wrap(op, err)
		}
		f.BeforeID = n
	}
	var evs []AuditEvent
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		evs, err = tx.AuditEvents(ctx, a.OrgID, f)
		return err
	})
	if err != nil {
		return AuditPage{}, wrap(op, err)
	}
	p := AuditPage{Events: evs}
	if len(evs) > limit {
		p.Events = evs[:limit]
		p.NextCursor = encodeAuditCursor(evs[limit-1].ID)
	}
	if p.Events == nil {
		p.Events = []AuditEvent{}
	}
	return p, nil
}
