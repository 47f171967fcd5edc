package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/latchkey/latchkey/internal/account"
)

var (
	errRoleTaken = &account.Error{Code: account.CodeConflict, Message: "A role with this name already exists."}
	errRoleInUse = &account.Error{Code: account.CodeRoleInUse, Message: "Users still hold this role."}
)

// roleID returns the ID of the organization's role name.
func (t *tx) roleID(ctx context.Context, op string, org account.OrgID, name string) (int64, error) {
	var id int64
	err := t.queryRow(ctx, `SELECT id FROM roles WHERE org_id = ? AND name = ?`, int64(org), name).Scan(&id)
	if err != nil {
		return 0, notFound(op, err)
	}
	return id, nil
}

// UpdateRole renames the role old to r.Name and replaces its permissions with
// r.Permissions; its builtin flag stays.
func (t *tx) UpdateRole(ctx context.Context, org account.OrgID, old string, r account.Role) error {
	id, err := t.roleID(ctx, "update role", org, old)
	if err != nil {
		return err
	}
	if r.Name != old {
		_, err := t.exec(ctx, `UPDATE roles SET name = ? WHERE id = ?`, r.Name, id)
		if isUnique(err) {
			return errRoleTaken
		}
		if err != nil {
			return fmt.Errorf("sqlstore: rename role: %w", err)
		}
	}
	if _, err := t.exec(ctx, `DELETE FROM role_permissions WHERE role_id = ?`, id); err != nil {
		return fmt.Errorf("sqlstore: update role permissions: %w", err)
	}
	return t.insertRolePermissions(ctx, id, r.Permissions)
}

func (t *tx) insertRolePermissions(ctx context.Context, role int64, ps []account.Permission) error {
	perms := slices.Clone(ps)
	slices.Sort(perms)
	for _, p := range slices.Compact(perms) {
		if _, err := t.exec(ctx, `INSERT INTO role_permissions (role_id, permission) VALUES (?, ?)`, role, string(p)); err != nil {
			return fmt.Errorf("sqlstore: insert role permission: %w", err)
		}
	}
	return nil
}

// DeleteRole removes the role and its permissions in one conditional
// statement, unless a user holds it. A user given the role by a concurrent
// transaction meanwhile trips user_roles' foreign key, which is the same
// answer.
func (t *tx) DeleteRole(ctx context.Context, org account.OrgID, name string) error {
	id, err := t.roleID(ctx, "delete role", org, name)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `DELETE FROM roles WHERE id = ? AND NOT EXISTS (SELECT 1 FROM user_roles WHERE role_id = ?)`, id, id)
	if isForeignKey(err) {
		return errRoleInUse
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete role: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: delete role: %w", err)
	}
	if n == 0 {
		return errRoleInUse
	}
	return nil
}

// CountUsersWithRole counts the organization's users holding the role; an
// unknown role has none.
func (t *tx) CountUsersWithRole(ctx context.Context, org account.OrgID, role string, activeOnly bool) (int, error) {
	q := `
		SELECT COUNT(*)
		FROM roles r
		JOIN user_roles ur ON ur.role_id = r.id
		JOIN users u ON u.id = ur.user_id
		WHERE r.org_id = ? AND r.name = ? AND u.org_id = ?`
	if activeOnly {
		q += ` AND u.status <> 'disabled'`
	}
	var n int
	if err := t.queryRow(ctx, q, int64(org), role, int64(org)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count users with role: %w", err)
	}
	return n, nil
}

// LockOrg locks the organization's row until the transaction ends, on
// PostgreSQL; on SQLite the one writer already serializes write transactions,
// so it only checks that the organization exists.
func (t *tx) LockOrg(ctx context.Context, org account.OrgID) error {
	var id int64
	if err := t.queryRow(ctx, `SELECT id FROM orgs WHERE id = ?`+t.forUpdate(), int64(org)).Scan(&id); err != nil {
		return notFound("lock org", err)
	}
	return nil
}
