package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

var errOrgTaken = &account.Error{Code: account.CodeOrgTaken, Message: "An organization with this slug already exists."}

const orgCols = `id, slug, name, settings, created_at`

// CreateOrg inserts o and sets o.ID and o.CreatedAt (now, when zero).
func (t *tx) CreateOrg(ctx context.Context, o *account.Org) error {
	settings, err := json.Marshal(o.Settings)
	if err != nil {
		return fmt.Errorf("sqlstore: insert org: %w", err)
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = time.Now()
	}
	o.CreatedAt = normTime(o.CreatedAt)
	err = t.queryRow(ctx, `INSERT INTO orgs (slug, name, settings, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		o.Slug, o.Name, string(settings), t.time(o.CreatedAt)).Scan(&o.ID)
	if isUnique(err) {
		return errOrgTaken
	}
	if err != nil {
		return fmt.Errorf("sqlstore: insert org: %w", err)
	}
	return nil
}

func scanOrg(row interface{ Scan(...any) error }) (account.Org, error) {
	var o account.Org
	var settings string
	if err := row.Scan(&o.ID, &o.Slug, &o.Name, &settings, timeCol{&o.CreatedAt}); err != nil {
		return account.Org{}, err
	}
	if err := json.Unmarshal([]byte(settings), &o.Settings); err != nil {
		return account.Org{}, fmt.Errorf("settings of org %d: %w", o.ID, err)
	}
	return o, nil
}

// OrgBySlug returns the organization with this slug.
func (t *tx) OrgBySlug(ctx context.Context, slug string) (account.Org, error) {
	o, err := scanOrg(t.queryRow(ctx, `SELECT `+orgCols+` FROM orgs WHERE slug = ?`, slug))
	if err != nil {
		return account.Org{}, notFound("org by slug", err)
	}
	return o, nil
}

// OrgByID returns the organization with this ID.
func (t *tx) OrgByID(ctx context.Context, id account.OrgID) (account.Org, error) {
	o, err := scanOrg(t.queryRow(ctx, `SELECT `+orgCols+` FROM orgs WHERE id = ?`, int64(id)))
	if err != nil {
		return account.Org{}, notFound("org by id", err)
	}
	return o, nil
}

// OrgCount returns the number of organizations.
func (t *tx) OrgCount(ctx context.Context) (int, error) {
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count orgs: %w", err)
	}
	return n, nil
}

// UpdateOrgSettings replaces the organization's settings.
func (t *tx) UpdateOrgSettings(ctx context.Context, id account.OrgID, s account.Settings) error {
	settings, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("sqlstore: update org settings: %w", err)
	}
	res, err := t.exec(ctx, `UPDATE orgs SET settings = ? WHERE id = ?`, string(settings), int64(id))
	if err != nil {
		return fmt.Errorf("sqlstore: update org settings: %w", err)
	}
	return affected("update org settings", res)
}

// CreateRole inserts r with its permissions; a name already used in the
// organization is an *account.Error with CodeConflict.
func (t *tx) CreateRole(ctx context.Context, r account.Role) error {
	var id int64
	err := t.queryRow(ctx, `INSERT INTO roles (org_id, name, builtin) VALUES (?, ?, ?) RETURNING id`,
		int64(r.OrgID), r.Name, r.Builtin).Scan(&id)
	if isUnique(err) {
		return errRoleTaken
	}
	if err != nil {
		return fmt.Errorf("sqlstore: insert role: %w", err)
	}
	return t.insertRolePermissions(ctx, id, r.Permissions)
}

// Roles lists the organization's roles by name, each with its permissions
// sorted.
func (t *tx) Roles(ctx context.Context, org account.OrgID) ([]account.Role, error) {
	rows, err := t.query(ctx, `
		SELECT r.id, r.name, r.builtin, rp.permission
		FROM roles r LEFT JOIN role_permissions rp ON rp.role_id = r.id
		WHERE r.org_id = ?
		ORDER BY r.id, rp.permission`, int64(org))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list roles: %w", err)
	}
	defer rows.Close()
	roles := []account.Role{}
	var last int64
	for rows.Next() {
		var (
			id   int64
			name string
			b    bool
			perm *string
		)
		if err := rows.Scan(&id, &name, &b, &perm); err != nil {
			return nil, fmt.Errorf("sqlstore: list roles: %w", err)
		}
		if len(roles) == 0 || id != last {
			roles = append(roles, account.Role{OrgID: org, Name: name, Builtin: b, Permissions: []account.Permission{}})
			last = id
		}
		if perm != nil {
			r := &roles[len(roles)-1]
			r.Permissions = append(r.Permissions, account.Permission(*perm))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list roles: %w", err)
	}
	// Sorted here, not by ORDER BY name: collations differ between the
	// dialects, and Go's byte order is the same everywhere.
	slices.SortFunc(roles, func(a, b account.Role) int { return strings.Compare(a.Name, b.Name) })
	for i := range roles {
		slices.Sort(roles[i].Permissions)
	}
	return roles, nil
}
