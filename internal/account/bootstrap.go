package account

import (
	"context"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/password"
)

// DefaultOrgSlug and DefaultAdminEmail are what `serve` creates on an empty database.
const (
	DefaultOrgSlug    = "default"
	DefaultAdminEmail = "admin@localhost"
)

// InitInput creates an organization and its first administrator.
type InitInput struct {
	Slug       string
	Name       string
	AdminEmail string
	// AdminPassword, when set, becomes the administrator's password; when
	// empty, a temporary password is generated and the account must choose a
	// new one at first sign-in.
	AdminPassword Secret
}

// InitResult is the organization and administrator created by Init.
type InitResult struct {
	Org  Org
	User User
	// TemporaryPassword is set when one was generated; it is shown once.
	TemporaryPassword Secret
	ExpiresAt         time.Time
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidEmail reports whether s is a plain email address such as ann@example.org
// (no display name, no angle brackets).
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"\t\r\n") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && strings.Count(s, "@") == 1
}

// Init creates an organization with the default roles and its first
// administrator. Returns validation_failed, password_policy, org_taken or
// overloaded. It is the operator's command, so it has no actor.
func (s *Service) Init(ctx context.Context, in InitInput) (InitResult, error) {
	const op = "account.Init"
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name = strings.TrimSpace(in.Name)
	email := NormalizeEmail(in.AdminEmail)
	var details []Detail
	if !slugRE.MatchString(in.Slug) {
		details = append(details, Detail{Field: "org", Message: "Use 1-63 lower-case letters, digits and hyphens."})
	}
	if !ValidEmail(email) {
		details = append(details, Detail{Field: "admin_email", Message: "Enter an email address such as ann@example.org."})
	}
	if len(details) > 0 {
		return InitResult{}, wrap(op, &Error{Code: CodeValidation, Message: "Some values are not valid.", Details: details})
	}
	if in.Name == "" {
		in.Name = in.Slug
	}
	o := Org{Slug: in.Slug, Name: in.Name, Settings: DefaultSettings()}
	now := s.now()
	u := User{Email: email, Name: "Administrator", Kind: KindStaff, Roles: []string{RoleAdministrator},
		AuthSource: AuthLocal, CreatedAt: now, UpdatedAt: now}
	var res InitResult
	plain := string(in.AdminPassword)
	if plain != "" {
		if err := s.checkPassword(o, u, plain); err != nil {
			return InitResult{}, wrap(op, err)
		}
		u.Status = StatusActive
		u.PasswordChangedAt = &now
	} else {
		plain = password.Temporary(16)
		u.Status = StatusForcePasswordReset
		exp := now.Add(time.Duration(o.Settings.TemporaryPasswordHours) * time.Hour)
		u.TempPasswordExpiresAt = &exp
		res.TemporaryPassword = Secret(plain)
		res.ExpiresAt = exp
	}
	if u.Status == StatusActive {
		hash, err := s.hasher.Hash(ctx, password.Normalize(plain))
		if err != nil {
			return InitResult{}, wrap(op, hashErr(err))
		}
		u.PasswordHash = hash
	} else {
		u.TempPasswordHash = password.HashTemporary(plain)
	}
	err := s.store.Tx(ctx, func(tx Tx) error {
		o.CreatedAt = now
		if err := tx.CreateOrg(ctx, &o); err != nil {
			return err
		}
		for _, r := range DefaultRoles(o.ID) {
			if err := tx.CreateRole(ctx, r); err != nil {
				return err
			}
		}
		u.OrgID = o.ID
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := s.append(ctx, tx, &AuditEvent{OrgID: o.ID, Action: ActionOrgCreated, Outcome: OutcomeSuccess,
			Details: map[string]any{"slug": o.Slug, "via": "init"}}); err != nil {
			return err
		}
		d := map[string]any{"email": u.Email, "roles": u.Roles, "via": "init"}
		if res.TemporaryPassword != "" {
			d["temporary_password"] = true
		}
		if err := s.append(ctx, tx, &AuditEvent{OrgID: o.ID, Action: ActionUserCreated, TargetID: &u.ID,
			Outcome: OutcomeSuccess, Details: d}); err != nil {
			return err
		}
		var err error
		u, err = tx.UserByID(ctx, o.ID, u.ID)
		return err
	})
	if err != nil {
		return InitResult{}, wrap(op, err)
	}
	res.Org, res.User = o, u
	return res, nil
}

// Bootstrap creates the default organization and administrator when the
// database has no organization yet, as `serve` does on first start. created
// is false when there was already one (including when another process won
// the race to create it).
func (s *Service) Bootstrap(ctx context.Context) (res InitResult, created bool, err error) {
	var n int
	err = s.store.View(ctx, func(tx Tx) error {
		var err error
		n, err = tx.OrgCount(ctx)
		return err
	})
	if err != nil || n > 0 {
		return InitResult{}, false, wrap("account.Bootstrap", err)
	}
	res, err = s.Init(ctx, InitInput{Slug: DefaultOrgSlug, Name: "Default", AdminEmail: DefaultAdminEmail})
	if ErrorCode(err) == CodeOrgTaken {
		return InitResult{}, false, nil
	}
	if err != nil {
		return InitResult{}, false, err
	}
	return res, true, nil
}
