package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

var errEmailTaken = &account.Error{Code: account.CodeEmailTaken, Message: "A user with this email already exists."}

const userCols = `id, org_id, email, name, kind, status, auth_source, password_hash,
	temp_password_hash, temp_password_expires_at, require_password_change, locked_until,
	failed_logins, last_login_at, password_changed_at, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (account.User, error) {
	var u account.User
	err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &u.Kind, &u.Status, &u.AuthSource, &u.PasswordHash,
		&u.TempPasswordHash, nullTimeCol{&u.TempPasswordExpiresAt}, &u.RequirePasswordChange, nullTimeCol{&u.LockedUntil},
		&u.FailedLogins, nullTimeCol{&u.LastLoginAt}, nullTimeCol{&u.PasswordChangedAt}, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
	return u, err
}

// CreateUser inserts u with its roles and sets u.ID; a zero u.CreatedAt or
// u.UpdatedAt becomes now.
func (t *tx) CreateUser(ctx context.Context, u *account.User) error {
	roleIDs, err := t.roleIDs(ctx, u.OrgID, u.Roles)
	if err != nil {
		return err
	}
	now := time.Now()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	u.CreatedAt, u.UpdatedAt = normTime(u.CreatedAt), normTime(u.UpdatedAt)
	err = t.queryRow(ctx, `
		INSERT INTO users (org_id, email, name, name_key, kind, status, auth_source, password_hash,
			temp_password_hash, temp_password_expires_at, require_password_change, locked_until,
			failed_logins, last_login_at, password_changed_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		int64(u.OrgID), u.Email, u.Name, account.FoldName(u.Name), string(u.Kind), string(u.Status), string(u.AuthSource), u.PasswordHash,
		u.TempPasswordHash, t.timePtr(u.TempPasswordExpiresAt), u.RequirePasswordChange, t.timePtr(u.LockedUntil),
		u.FailedLogins, t.timePtr(u.LastLoginAt), t.timePtr(u.PasswordChangedAt), t.time(u.CreatedAt), t.time(u.UpdatedAt),
	).Scan(&u.ID)
	if isUnique(err) {
		return errEmailTaken
	}
	if err != nil {
		return fmt.Errorf("sqlstore: insert user: %w", err)
	}
	return t.insertUserRoles(ctx, u.ID, roleIDs)
}

// roleIDs resolves role names of org to IDs; an unknown name is CodeValidation.
func (t *tx) roleIDs(ctx context.Context, org account.OrgID, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	// An organization has a handful of roles: read them all rather than
	// build an IN list.
	rows, err := t.query(ctx, `SELECT id, name FROM roles WHERE org_id = ?`, int64(org))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: resolve roles: %w", err)
	}
	defer rows.Close()
	byName := map[string]int64{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("sqlstore: resolve roles: %w", err)
		}
		byName[name] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: resolve roles: %w", err)
	}
	var ids []int64
	for _, n := range names {
		id, ok := byName[n]
		if !ok {
			msg := fmt.Sprintf("Unknown role %q.", n)
			return nil, &account.Error{Code: account.CodeValidation, Message: msg,
				Details: []account.Detail{{Field: "roles", Message: msg}}}
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (t *tx) insertUserRoles(ctx context.Context, user account.UserID, roleIDs []int64) error {
	for _, id := range roleIDs {
		if _, err := t.exec(ctx, `INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)`, int64(user), id); err != nil {
			return fmt.Errorf("sqlstore: insert user role: %w", err)
		}
	}
	return nil
}

// UserByID returns the user with its roles and permissions. In a Tx on
// PostgreSQL it locks the user's row (not the roles') until the end of the
// transaction.
func (t *tx) UserByID(ctx context.Context, org account.OrgID, id account.UserID) (account.User, error) {
	u, err := t.userWithRoles(ctx, `u.org_id = ? AND u.id = ?`, int64(org), int64(id))
	if err != nil {
		return account.User{}, notFound("user by id", err)
	}
	return u, nil
}

// UserByEmail returns the user with this email, normalized here too; it
// locks the row as UserByID does.
func (t *tx) UserByEmail(ctx context.Context, org account.OrgID, email string) (account.User, error) {
	u, err := t.userWithRoles(ctx, `u.org_id = ? AND u.email = ?`, int64(org), account.NormalizeEmail(email))
	if err != nil {
		return account.User{}, notFound("user by email", err)
	}
	return u, nil
}

// userWithRoles reads one user and its roles and permissions in one
// statement: a row for each permission of each role (and one with NULLs
// for a user without roles). Sign-in and every authenticated request read
// a user, so this saves them a round trip. A missing user is sql.ErrNoRows.
func (t *tx) userWithRoles(ctx context.Context, where string, args ...any) (account.User, error) {
	lock := ""
	if t.forUpdate() != "" {
		lock = " FOR UPDATE OF u"
	}
	rows, err := t.query(ctx, `
		SELECT `+prefixed("u.", userCols)+`, r.name, rp.permission
		FROM users u
		LEFT JOIN user_roles ur ON ur.user_id = u.id
		LEFT JOIN roles r ON r.id = ur.role_id AND r.org_id = u.org_id
		LEFT JOIN role_permissions rp ON rp.role_id = r.id
		WHERE `+where+lock, args...)
	if err != nil {
		return account.User{}, err
	}
	defer rows.Close()
	var u account.User
	found := false
	for rows.Next() {
		var role, perm *string
		cur, err := scanUser(scanPlus2{rows, &role, &perm})
		if err != nil {
			return account.User{}, err
		}
		if !found {
			u, found = cur, true
			u.Roles, u.Permissions = []string{}, account.PermissionSet{}
		}
		if role != nil && !slices.Contains(u.Roles, *role) {
			u.Roles = append(u.Roles, *role)
		}
		if role != nil && perm != nil {
			u.Permissions[account.Permission(*perm)] = true
		}
	}
	if err := rows.Err(); err != nil {
		return account.User{}, err
	}
	if !found {
		return account.User{}, sql.ErrNoRows
	}
	slices.Sort(u.Roles)
	return u, nil
}

// scanPlus2 scans a user's columns followed by two more.
type scanPlus2 struct {
	rows *sql.Rows
	a, b any
}

func (r scanPlus2) Scan(dest ...any) error { return r.rows.Scan(append(dest, r.a, r.b)...) }

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// loadUsersRoles sets Roles, sorted, and Permissions of the organization's
// users, in one query.
func (t *tx) loadUsersRoles(ctx context.Context, org account.OrgID, users []account.User) error {
	if len(users) == 0 {
		return nil
	}
	byID := make(map[account.UserID]*account.User, len(users))
	args := make([]any, 0, len(users)+1)
	args = append(args, int64(org))
	for i := range users {
		u := &users[i]
		u.Roles = []string{}
		u.Permissions = account.PermissionSet{}
		byID[u.ID] = u
		args = append(args, int64(u.ID))
	}
	rows, err := t.query(ctx, `
		SELECT ur.user_id, r.name, rp.permission
		FROM user_roles ur
		JOIN roles r ON r.id = ur.role_id
		LEFT JOIN role_permissions rp ON rp.role_id = r.id
		WHERE r.org_id = ? AND ur.user_id IN (?`+strings.Repeat(", ?", len(users)-1)+`)`, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: load user roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		var perm *string
		if err := rows.Scan(&id, &name, &perm); err != nil {
			return fmt.Errorf("sqlstore: load user roles: %w", err)
		}
		u := byID[account.UserID(id)]
		if u == nil {
			continue
		}
		if !slices.Contains(u.Roles, name) {
			u.Roles = append(u.Roles, name)
		}
		if perm != nil {
			u.Permissions[account.Permission(*perm)] = true
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: load user roles: %w", err)
	}
	for i := range users {
		slices.Sort(users[i].Roles)
	}
	return nil
}

// UpdateUser writes u's mutable fields; kind, creation time and roles stay.
// A zero u.UpdatedAt becomes now.
func (t *tx) UpdateUser(ctx context.Context, u *account.User) error {
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = time.Now()
	}
	u.UpdatedAt = normTime(u.UpdatedAt)
	res, err := t.exec(ctx, `
		UPDATE users SET email = ?, name = ?, name_key = ?, status = ?, auth_source = ?, password_hash = ?,
			temp_password_hash = ?, temp_password_expires_at = ?, require_password_change = ?,
			locked_until = ?, failed_logins = ?, last_login_at = ?, password_changed_at = ?, updated_at = ?
		WHERE org_id = ? AND id = ?`,
		u.Email, u.Name, account.FoldName(u.Name), string(u.Status), string(u.AuthSource), u.PasswordHash,
		u.TempPasswordHash, t.timePtr(u.TempPasswordExpiresAt), u.RequirePasswordChange,
		t.timePtr(u.LockedUntil), u.FailedLogins, t.timePtr(u.LastLoginAt), t.timePtr(u.PasswordChangedAt), t.time(u.UpdatedAt),
		int64(u.OrgID), int64(u.ID))
	if isUnique(err) {
		return errEmailTaken
	}
	if err != nil {
		return fmt.Errorf("sqlstore: update user: %w", err)
	}
	return affected("update user", res)
}

// SetUserRoles replaces the user's roles.
func (t *tx) SetUserRoles(ctx context.Context, org account.OrgID, id account.UserID, roles []string) error {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM users WHERE org_id = ? AND id = ?`, int64(org), int64(id)).Scan(&one)
	if err != nil {
		return notFound("set user roles", err)
	}
	roleIDs, err := t.roleIDs(ctx, org, roles)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM user_roles WHERE user_id = ?`, int64(id)); err != nil {
		return fmt.Errorf("sqlstore: set user roles: %w", err)
	}
	return t.insertUserRoles(ctx, id, roleIDs)
}

// DeleteUser removes the user; its roles, sessions, challenges and password
// history go with it (ON DELETE CASCADE). Audit events stay.
func (t *tx) DeleteUser(ctx context.Context, org account.OrgID, id account.UserID) error {
	res, err := t.exec(ctx, `DELETE FROM users WHERE org_id = ? AND id = ?`, int64(org), int64(id))
	if err != nil {
		return fmt.Errorf("sqlstore: delete user: %w", err)
	}
	return affected("delete user", res)
}

// RecordLoginFailure adds one to failed_logins in one statement, so that
// concurrent failures in several processes all count.
func (t *tx) RecordLoginFailure(ctx context.Context, org account.OrgID, id account.UserID, at time.Time) (int, error) {
	var n int
	err := t.queryRow(ctx, `UPDATE users SET failed_logins = failed_logins + 1, updated_at = ? WHERE org_id = ? AND id = ? RETURNING failed_logins`,
		t.time(at), int64(org), int64(id)).Scan(&n)
	if err != nil {
		return 0, notFound("record login failure", err)
	}
	return n, nil
}

// RecordLogin resets failed_logins and locked_until and sets last_login_at
// (and updated_at) to at.
func (t *tx) RecordLogin(ctx context.Context, org account.OrgID, id account.UserID, at time.Time) error {
	res, err := t.exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
		t.time(at), t.time(at), int64(org), int64(id))
	if err != nil {
		return fmt.Errorf("sqlstore: record login: %w", err)
	}
	return affected("record login", res)
}

// ReplacePasswordHash swaps old for new only while old is still the stored
// hash; otherwise, for an empty old or for a missing user, it does nothing
// and returns nil.
func (t *tx) ReplacePasswordHash(ctx context.Context, org account.OrgID, id account.UserID, old, new string) error {
	if old == "" {
		return nil // a user without a password gets none by a rehash
	}
	_, err := t.exec(ctx, `UPDATE users SET password_hash = ? WHERE org_id = ? AND id = ? AND password_hash = ?`,
		new, int64(org), int64(id), old)
	if err != nil {
		return fmt.Errorf("sqlstore: replace password hash: %w", err)
	}
	return nil
}
