package account

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/password"
)

// ListUsersInput is a search of the user list.
type ListUsersInput struct {
	Q, Email, Name, Role string
	ID                   string
	Status               string
	Kind                 string
	// Community limits the list to residents and businesses, Staff to staff;
	// neither lists every kind the actor may see.
	Community, Staff bool
	Limit            int
	Cursor           string
}

// UserPage is one page of users and the cursor of the next, "" at the end.
type UserPage struct {
	Users      []User
	NextCursor string
}

// DefaultPageSize and MaxPageSize bound a page of users.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

type cursorJSON struct {
	N string `json:"n"`
	I int64  `json:"i"`
}

func encodeCursor(u User) string {
	b, _ := json.Marshal(cursorJSON{N: FoldName(u.Name), I: int64(u.ID)})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*UserCursor, error) {
	bad := &Error{Code: CodeInvalidCursor, Message: "The cursor is not valid; start from the first page."}
	if len(s) > 1024 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c cursorJSON
	if err := json.Unmarshal(b, &c); err != nil || c.I <= 0 || !utf8.ValidString(c.N) {
		return nil, bad
	}
	return &UserCursor{NameKey: c.N, ID: UserID(c.I)}, nil
}

// ListUsers returns a page of the organization's users that the actor may
// see, sorted by name then ID. Returns forbidden when the actor may read no
// kind of user, invalid_cursor or validation_failed for bad input.
func (s *Service) ListUsers(ctx context.Context, a Actor, in ListUsersInput) (UserPage, error) {
	const op = "account.ListUsers"
	kinds := a.visibleKinds()
	if in.Staff {
		kinds = slices.DeleteFunc(kinds, Kind.Community)
	}
	if in.Community {
		kinds = slices.DeleteFunc(kinds, func(k Kind) bool { return !k.Community() })
	}
	if len(kinds) == 0 {
		return UserPage{}, wrap(op, errForbidden)
	}
	f := UserFilter{Q: strings.TrimSpace(in.Q), Email: strings.TrimSpace(in.Email), Name: strings.TrimSpace(in.Name),
		Role: strings.TrimSpace(in.Role), Kinds: kinds, Limit: in.Limit}
	var details []Detail
	if in.ID != "" {
		id, err := strconv.ParseInt(strings.TrimSpace(in.ID), 10, 64)
		if err != nil || id <= 0 {
			details = append(details, Detail{Field: "id", Message: "Must be a user ID (a positive whole number)."})
		}
		uid := UserID(id)
		f.ID = &uid
	}
	if in.Status != "" {
		st := Status(in.Status)
		if _, ok := statusNames[st]; !ok {
			details = append(details, Detail{Field: "status", Message: "Must be active, invited, force_password_reset or disabled."})
		}
		f.Status = st
	}
	if in.Kind != "" {
		k := Kind(in.Kind)
		if !k.Valid() {
			details = append(details, Detail{Field: "kind", Message: "Must be staff, resident or business."})
		}
		f.Kinds = slices.DeleteFunc(f.Kinds, func(v Kind) bool { return v != k })
	}
	if f.Limit == 0 {
		f.Limit = DefaultPageSize
	}
	if f.Limit < 1 || f.Limit > MaxPageSize {
		details = append(details, Detail{Field: "limit", Message: "Must be between 1 and 200."})
	}
	for _, v := range []struct{ field, val string }{{"q", f.Q}, {"email", f.Email}, {"name", f.Name}, {"role", f.Role}} {
		if len(v.val) > 256 {
			details = append(details, Detail{Field: v.field, Message: "Must be at most 256 characters."})
		}
	}
	if len(details) > 0 {
		return UserPage{}, wrap(op, &Error{Code: CodeValidation, Message: "Some search values are not valid.", Details: details})
	}
	if in.Cursor != "" {
		c, err := decodeCursor(in.Cursor)
		if err != nil {
			return UserPage{}, wrap(op, err)
		}
		f.After = c
	}
	if len(f.Kinds) == 0 {
		return UserPage{Users: []User{}}, nil
	}
	want := f.Limit
	f.Limit++
	var users []User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		users, err = tx.ListUsers(ctx, a.OrgID, f)
		return err
	})
	if err != nil {
		return UserPage{}, wrap(op, err)
	}
	page := UserPage{Users: users}
	if len(users) > want {
		page.Users = users[:want]
		page.NextCursor = encodeCursor(users[want-1])
	}
	if page.Users == nil {
		page.Users = []User{}
	}
	return page, nil
}

var statusNames = map[Status]bool{StatusActive: true, StatusInvited: true, StatusForcePasswordReset: true, StatusDisabled: true}

// GetUser returns a user the actor may see; not_found otherwise.
func (s *Service) GetUser(ctx context.Context, a Actor, id UserID) (User, error) {
	var u User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.UserByID(ctx, a.OrgID, id); err != nil {
			return notFound(err)
		}
		return a.canManage(u, verbRead)
	})
	return u, wrap("account.GetUser", err)
}

// CreateUserInput is a new user.
type CreateUserInput struct {
	Email      string
	Name       string
	Kind       Kind
	Roles      []string
	AuthSource AuthSource
	// Password, when set, is the user's password; TemporaryPassword asks for a
	// generated one shown once. With neither the user is invited.
	Password          Secret
	TemporaryPassword bool
	SendWelcome       *bool
}

// CreateUserResult is the new user and, when asked for, its temporary
// password, shown only now.
type CreateUserResult struct {
	User              User
	TemporaryPassword Secret
	ExpiresAt         *time.Time
}

// validName checks a display name: 1-200 characters, no control characters.
func validName(s string) bool {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > 200 || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// rolePerms returns the union of the named roles' permissions, or a
// validation error naming the unknown ones.
func rolePerms(roles []Role, names []string) (PermissionSet, error) {
	byName := map[string]Role{}
	for _, r := range roles {
		byName[r.Name] = r
	}
	perms := PermissionSet{}
	var unknown []string
	for _, n := range names {
		r, ok := byName[n]
		if !ok {
			unknown = append(unknown, n)
			continue
		}
		for _, p := range r.Permissions {
			perms[p] = true
		}
	}
	if len(unknown) > 0 {
		return nil, &Error{Code: CodeValidation, Message: "Some values are not valid.",
			Details: []Detail{{Field: "roles", Message: "Unknown role: " + strings.Join(unknown, ", ") + "."}}}
	}
	return perms, nil
}

func dedupe(ss []string) []string {
	out := []string{}
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// CreateUser adds a user to the actor's organization. Returns forbidden
// without *.create for the kind or when the roles grant more than the actor
// holds; validation_failed naming each bad field; password_policy;
// email_taken; overloaded.
func (s *Service) CreateUser(ctx context.Context, a Actor, in CreateUserInput) (CreateUserResult, error) {
	const op = "account.CreateUser"
	in.Email = NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	in.Roles = dedupe(in.Roles)
	if in.Kind == "" {
		in.Kind = KindStaff
	}
	if in.AuthSource == "" {
		in.AuthSource = AuthLocal
	}
	var details []Detail
	if !ValidEmail(in.Email) {
		details = append(details, Detail{Field: "email", Message: "Enter an email address such as ann@example.org."})
	}
	if !validName(in.Name) {
		details = append(details, Detail{Field: "name", Message: "Enter a name of 1 to 200 characters."})
	}
	if !in.Kind.Valid() {
		details = append(details, Detail{Field: "kind", Message: "Must be staff, resident or business."})
	}
	if in.AuthSource != AuthLocal && in.AuthSource != AuthSSO {
		details = append(details, Detail{Field: "auth_source", Message: "Must be local or sso."})
	}
	if in.Password != "" && in.TemporaryPassword {
		details = append(details, Detail{Field: "temporary_password", Message: "Give a password or ask for a temporary one, not both."})
	}
	if in.AuthSource == AuthSSO && (in.Password != "" || in.TemporaryPassword) {
		details = append(details, Detail{Field: "password", Message: "Single sign-on users have no local password."})
	}
	if in.Kind.Valid() && !a.Has(permFor(in.Kind, verbCreate)) {
		return CreateUserResult{}, wrap(op, errForbidden)
	}
	var o Org
	var roles []Role
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if o, err = tx.OrgByID(ctx, a.OrgID); err != nil {
			return err
		}
		roles, err = tx.Roles(ctx, a.OrgID)
		return err
	})
	if err != nil {
		return CreateUserResult{}, wrap(op, err)
	}
	perms, err := rolePerms(roles, in.Roles)
	if err != nil {
		var e *Error
		errors.As(err, &e)
		details = append(details, e.Details...)
	}
	if len(details) > 0 {
		return CreateUserResult{}, wrap(op, &Error{Code: CodeValidation, Message: "Some values are not valid.", Details: details})
	}
	if err := a.canGrant(perms); err != nil {
		return CreateUserResult{}, wrap(op, err)
	}
	now := s.now()
	u := User{OrgID: a.OrgID, Email: in.Email, Name: in.Name, Kind: in.Kind, Roles: in.Roles, AuthSource: in.AuthSource,
		Status: StatusInvited, CreatedAt: now, UpdatedAt: now}
	var res CreateUserResult
	welcomed := false
	switch {
	case in.Password != "":
		if err := s.checkPassword(o, u, string(in.Password)); err != nil {
			return CreateUserResult{}, wrap(op, err)
		}
		h, err := s.hasher.Hash(ctx, password.Normalize(string(in.Password)))
		if err != nil {
			return CreateUserResult{}, wrap(op, hashErr(err))
		}
		u.PasswordHash, u.Status, u.PasswordChangedAt = h, StatusActive, &now
	case in.TemporaryPassword:
		plain, h, exp, err := s.newTemporary(ctx, o, u)
		if err != nil {
			return CreateUserResult{}, wrap(op, err)
		}
		u.TempPasswordHash, u.TempPasswordExpiresAt, u.Status = h, &exp, StatusForcePasswordReset
		res.TemporaryPassword, res.ExpiresAt = plain, &exp
	case in.AuthSource == AuthSSO:
		u.Status = StatusActive
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		d := map[string]any{"email": u.Email, "kind": string(u.Kind), "roles": u.Roles, "status": string(u.Status)}
		if res.TemporaryPassword != "" {
			d["temporary_password"] = true
		}
		if err := s.append(ctx, tx, a.event(ActionUserCreated, &u.ID, OutcomeSuccess, d)); err != nil {
			return err
		}
		if res.TemporaryPassword != "" {
			if err := s.append(ctx, tx, a.event(ActionTempPasswordIssued, &u.ID, OutcomeSuccess,
				map[string]any{"expires_at": res.ExpiresAt.Format(time.RFC3339)})); err != nil {
				return err
			}
		}
		if u.Status == StatusInvited && (in.SendWelcome == nil || *in.SendWelcome) && s.cfg.Renderer != nil {
			if err := s.sendWelcome(ctx, tx, a, o, u); err != nil {
				return err
			}
			welcomed = true
		}
		var err error
		u, err = tx.UserByID(ctx, a.OrgID, u.ID)
		return err
	})
	if err != nil {
		return CreateUserResult{}, wrap(op, err)
	}
	if welcomed {
		s.wake()
	}
	res.User = u
	return res, nil
}

// newTemporary generates a temporary password that meets the organization's
// policy, and its hash and expiry.
func (s *Service) newTemporary(ctx context.Context, o Org, u User) (Secret, string, time.Time, error) {
	n := max(16, o.Settings.PasswordPolicy.MinLength)
	var plain string
	for range 20 {
		plain = password.Temporary(n)
		if s.checkPassword(o, u, plain) == nil {
			break
		}
	}
	h := password.HashTemporary(plain)
	hours := o.Settings.TemporaryPasswordHours
	if hours <= 0 {
		hours = 72
	}
	return Secret(plain), h, s.now().Add(time.Duration(hours) * time.Hour), nil
}

// UserPatch changes a user; nil fields stay as they are.
type UserPatch struct {
	Name                  *string
	Email                 *string
	Roles                 *[]string
	Status                *Status
	AuthSource            *AuthSource
	Password              *Secret
	RequirePasswordChange *bool
	Reason                *string
}

// UpdateUser changes a user the actor may manage. An absent or empty
// password leaves it unchanged; a new one ends the user's sessions and
// clears a lockout. Returns not_found, forbidden, validation_failed,
// password_policy, email_taken, sso_managed, last_administrator, overloaded.
func (s *Service) UpdateUser(ctx context.Context, a Actor, id UserID, p UserPatch) (User, error) {
	const op = "account.UpdateUser"
	var details []Detail
	if p.Name != nil {
		*p.Name = strings.TrimSpace(*p.Name)
		if !validName(*p.Name) {
			details = append(details, Detail{Field: "name", Message: "Enter a name of 1 to 200 characters."})
		}
	}
	if p.Email != nil {
		*p.Email = NormalizeEmail(*p.Email)
		if !ValidEmail(*p.Email) {
			details = append(details, Detail{Field: "email", Message: "Enter an email address such as ann@example.org."})
		}
	}
	if p.Status != nil && *p.Status != StatusActive && *p.Status != StatusDisabled {
		details = append(details, Detail{Field: "status", Message: "Can be set to active or disabled."})
	}
	if p.AuthSource != nil && *p.AuthSource != AuthLocal && *p.AuthSource != AuthSSO {
		details = append(details, Detail{Field: "auth_source", Message: "Must be local or sso."})
	}
	if p.Roles != nil {
		r := dedupe(*p.Roles)
		p.Roles = &r
	}
	if p.Reason != nil && utf8.RuneCountInString(*p.Reason) > 500 {
		details = append(details, Detail{Field: "reason", Message: "Must be at most 500 characters."})
	}
	if p.Password != nil && *p.Password == "" {
		p.Password = nil
	}
	if len(details) > 0 {
		return User{}, wrap(op, &Error{Code: CodeValidation, Message: "Some values are not valid.", Details: details})
	}

	// Hash a new password first, outside any transaction, after checking the
	// caller may set it, so that a refused request costs no hash.
	var newHash string
	if p.Password != nil {
		var o Org
		var u User
		err := s.store.View(ctx, func(tx Tx) error {
			var err error
			if u, err = tx.UserByID(ctx, a.OrgID, id); err != nil {
				return notFound(err)
			}
			if err := a.canManage(u, verbUpdate); err != nil {
				return err
			}
			o, err = tx.OrgByID(ctx, a.OrgID)
			return err
		})
		if err != nil {
			return User{}, wrap(op, err)
		}
		src := u.AuthSource
		if p.AuthSource != nil {
			src = *p.AuthSource
		}
		if src == AuthSSO {
			return User{}, wrap(op, errSSOManaged(o))
		}
		if err := s.checkPassword(o, u, string(*p.Password)); err != nil {
			return User{}, wrap(op, err)
		}
		if err := s.checkHistory(ctx, o, u, string(*p.Password)); err != nil {
			return User{}, wrap(op, err)
		}
		if newHash, err = s.hasher.Hash(ctx, password.Normalize(string(*p.Password))); err != nil {
			return User{}, wrap(op, hashErr(err))
		}
	}

	var out User
	notified := false
	err := s.store.Tx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, a.OrgID, id)
		if err != nil {
			return notFound(err)
		}
		if err := a.canManage(u, verbUpdate); err != nil {
			return err
		}
		now := s.now()
		changed := []string{}
		endSessions := false
		if p.Roles != nil && !slices.Equal(sorted(*p.Roles), sorted(u.Roles)) {
			roles, err := tx.Roles(ctx, a.OrgID)
			if err != nil {
				return err
			}
			perms, err := rolePerms(roles, *p.Roles)
			if err != nil {
				return err
			}
			if err := a.canGrant(perms); err != nil {
				return err
			}
			if slices.Contains(u.Roles, RoleAdministrator) && !slices.Contains(*p.Roles, RoleAdministrator) {
				if err := s.keepOneAdmin(ctx, tx, u); err != nil {
					return err
				}
			}
			if err := tx.SetUserRoles(ctx, a.OrgID, u.ID, *p.Roles); err != nil {
				return err
			}
			changed = append(changed, "roles")
		}
		if p.Name != nil && *p.Name != u.Name {
			u.Name = *p.Name
			changed = append(changed, "name")
		}
		oldEmail := u.Email
		if p.Email != nil && *p.Email != u.Email {
			u.Email = *p.Email
			changed = append(changed, "email")
		}
		if p.AuthSource != nil && *p.AuthSource != u.AuthSource {
			u.AuthSource = *p.AuthSource
			if u.AuthSource == AuthSSO {
				// An SSO user has no local password to sign in with.
				u.PasswordHash, u.TempPasswordHash, u.TempPasswordExpiresAt = "", "", nil
				if u.Status == StatusInvited || u.Status == StatusForcePasswordReset {
					u.Status = StatusActive
				}
				endSessions = true
			}
			changed = append(changed, "auth_source")
		}
		if p.Status != nil && *p.Status != u.Status {
			switch *p.Status {
			case StatusDisabled:
				if slices.Contains(u.Roles, RoleAdministrator) {
					if err := s.keepOneAdmin(ctx, tx, u); err != nil {
						return err
					}
				}
				u.Status = StatusDisabled
				endSessions = true
				changed = append(changed, "status")
			case StatusActive:
				if u.Status == StatusDisabled {
					u.Status = restoredStatus(u)
					changed = append(changed, "status")
				}
			}
		}
		if p.RequirePasswordChange != nil && *p.RequirePasswordChange != u.RequirePasswordChange {
			u.RequirePasswordChange = *p.RequirePasswordChange
			changed = append(changed, "require_password_change")
		}
		passwordSet := newHash != ""
		if passwordSet {
			if u.PasswordHash != "" {
				if err := tx.AddPasswordHistory(ctx, a.OrgID, u.ID, u.PasswordHash, now, maxHistory); err != nil {
					return err
				}
			}
			u.PasswordHash = newHash
			u.PasswordChangedAt = &now
			u.TempPasswordHash, u.TempPasswordExpiresAt = "", nil
			u.LockedUntil, u.FailedLogins = nil, 0
			if u.Status == StatusInvited || u.Status == StatusForcePasswordReset {
				u.Status = StatusActive
			}
			endSessions = true
		}
		if len(changed) == 0 && !passwordSet {
			out = u
			return nil
		}
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		reason := ""
		if p.Reason != nil {
			reason = strings.TrimSpace(*p.Reason)
		}
		if len(changed) > 0 {
			d := map[string]any{"fields": changed}
			if reason != "" {
				d["reason"] = reason
			}
			if err := s.append(ctx, tx, a.event(ActionUserUpdated, &u.ID, OutcomeSuccess, d)); err != nil {
				return err
			}
		}
		if passwordSet {
			d := map[string]any{"require_password_change": u.RequirePasswordChange}
			if reason != "" {
				d["reason"] = reason
			}
			if err := s.append(ctx, tx, a.event(ActionPasswordSet, &u.ID, OutcomeSuccess, d)); err != nil {
				return err
			}
		}
		if passwordSet || endSessions || slices.Contains(changed, "email") {
			// Any credential or identity change kills outstanding links.
			if err := tx.InvalidateResetTokens(ctx, a.OrgID, u.ID); err != nil {
				return err
			}
		}
		if s.cfg.Renderer != nil {
			o, err := tx.OrgByID(ctx, a.OrgID)
			if err != nil {
				return err
			}
			if slices.Contains(changed, "email") {
				if err := s.notifyEmailChanged(ctx, tx, o, u, oldEmail); err != nil {
					return err
				}
				notified = true
			}
			if passwordSet {
				if err := s.notifyPasswordChanged(ctx, tx, o, u); err != nil {
					return err
				}
				notified = true
			}
		}
		if endSessions {
			n, err := tx.DeleteUserSessions(ctx, a.OrgID, u.ID, 0)
			if err != nil {
				return err
			}
			if err := tx.DeleteUserChallenges(ctx, a.OrgID, u.ID); err != nil {
				return err
			}
			if err := s.append(ctx, tx, a.event(ActionSessionsRevoked, &u.ID, OutcomeSuccess,
				map[string]any{"sessions": n, "cause": strings.Join(append(changed, passwordField(passwordSet)...), ",")})); err != nil {
				return err
			}
		}
		out, err = tx.UserByID(ctx, a.OrgID, u.ID)
		return err
	})
	if err != nil {
		return User{}, wrap(op, err)
	}
	if notified {
		s.wake()
	}
	return out, nil
}

func passwordField(set bool) []string {
	if set {
		return []string{"password"}
	}
	return nil
}

func sorted(ss []string) []string {
	c := slices.Clone(ss)
	slices.Sort(c)
	return c
}

// restoredStatus is the status of a re-enabled user: what its credentials say.
func restoredStatus(u User) Status {
	switch {
	case u.AuthSource == AuthSSO:
		return StatusActive
	case u.TempPasswordHash != "":
		return StatusForcePasswordReset
	case u.PasswordHash == "":
		return StatusInvited
	}
	return StatusActive
}

func errSSOManaged(o Org) *Error {
	msg := "This user signs in with single sign-on; a local password would change nothing."
	if o.Settings.SSO != nil && o.Settings.SSO.ProviderName != "" {
		msg = "This user signs in with " + o.Settings.SSO.ProviderName + "; a local password would change nothing."
		if o.Settings.SSO.LoginURL != "" {
			msg += " They sign in at " + o.Settings.SSO.LoginURL + "."
		}
	}
	return &Error{Code: CodeSSOManaged, Message: msg}
}

// keepOneAdmin refuses to remove the last active Administrator of the
// organization (u is the one about to be removed, demoted or disabled).
func (s *Service) keepOneAdmin(ctx context.Context, tx Tx, u User) error {
	if u.Status == StatusDisabled {
		return nil
	}
	if err := tx.LockOrg(ctx, u.OrgID); err != nil {
		return err
	}
	n, err := tx.CountUsersWithRole(ctx, u.OrgID, RoleAdministrator, true)
	if err != nil {
		return err
	}
	if n <= 1 {
		return &Error{Code: CodeLastAdmin, Message: "This is the organization's last administrator; make someone else an Administrator first."}
	}
	return nil
}

// DeleteUser removes a user the actor may delete; its sessions end and its
// email is free at once. Returns not_found, forbidden, last_administrator.
func (s *Service) DeleteUser(ctx context.Context, a Actor, id UserID) error {
	err := s.store.Tx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, a.OrgID, id)
		if err != nil {
			return notFound(err)
		}
		if err := a.canManage(u, verbDelete); err != nil {
			return err
		}
		if slices.Contains(u.Roles, RoleAdministrator) {
			if err := s.keepOneAdmin(ctx, tx, u); err != nil {
				return err
			}
		}
		n, err := tx.DeleteUserSessions(ctx, a.OrgID, u.ID, 0)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, a.OrgID, u.ID); err != nil {
			return err
		}
		return s.append(ctx, tx, a.event(ActionUserDeleted, &u.ID, OutcomeSuccess,
			map[string]any{"email": u.Email, "name": u.Name, "kind": string(u.Kind), "roles": u.Roles, "sessions_ended": n}))
	})
	return wrap("account.DeleteUser", err)
}

func encodeAuditCursor(id int64) string {
	b, _ := json.Marshal(map[string]int64{"b": id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeAuditCursor(s string) (int64, error) {
	bad := &Error{Code: CodeInvalidCursor, Message: "The cursor is not valid; start from the first page."}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 256 {
		return 0, bad
	}
	var c map[string]int64
	if err := json.Unmarshal(b, &c); err != nil || c["b"] <= 0 {
		return 0, bad
	}
	return c["b"], nil
}
