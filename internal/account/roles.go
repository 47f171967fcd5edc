package account

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"
)

// RoleAction names for the audit log.
const (
	ActionRoleCreated Action = "role.created"
	ActionRoleUpdated Action = "role.updated"
	ActionRoleDeleted Action = "role.deleted"
)

// canReadRoles: role managers, and whoever reads or assigns users' roles.
func (a Actor) canReadRoles() bool {
	for _, p := range []Permission{PermRolesManage, PermUsersRead, PermCommunityRead} {
		if a.Has(p) {
			return true
		}
	}
	return false
}

// Roles lists the organization's roles. Returns forbidden unless the actor
// manages roles or may read users.
func (s *Service) Roles(ctx context.Context, a Actor) ([]Role, error) {
	if !a.canReadRoles() {
		return nil, wrap("account.Roles", errForbidden)
	}
	var rs []Role
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		rs, err = tx.Roles(ctx, a.OrgID)
		return err
	})
	return rs, wrap("account.Roles", err)
}

// validateRole checks a role's name and permissions.
func validateRole(name string, perms []Permission) []Detail {
	var d []Detail
	if n := utf8.RuneCountInString(name); n == 0 || n > 64 || !validName(name) || strings.Contains(name, ";") {
		d = append(d, Detail{Field: "name", Message: "Enter a name of 1 to 64 characters, without ';'."})
	}
	var unknown []string
	for _, p := range perms {
		if !ValidPermission(p) {
			unknown = append(unknown, string(p))
		}
	}
	if len(unknown) > 0 {
		d = append(d, Detail{Field: "permissions", Message: "Unknown permission: " + strings.Join(unknown, ", ") + "."})
	}
	return d
}

func uniquePerms(ps []Permission) []Permission {
	out := []Permission{}
	for _, p := range ps {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// CreateRole adds a custom role. Returns forbidden without roles.manage or
// when the role would hold a permission the actor lacks; validation_failed;
// conflict for a taken name.
func (s *Service) CreateRole(ctx context.Context, a Actor, name string, perms []Permission) (Role, error) {
	const op = "account.CreateRole"
	if !a.Has(PermRolesManage) {
		return Role{}, wrap(op, errForbidden)
	}
	name = strings.TrimSpace(name)
	perms = uniquePerms(perms)
	if d := validateRole(name, perms); len(d) > 0 {
		return Role{}, wrap(op, &Error{Code: CodeValidation, Message: "Some values are not valid.", Details: d})
	}
	if err := a.canGrant(NewPermissionSet(perms...)); err != nil {
		return Role{}, wrap(op, err)
	}
	r := Role{OrgID: a.OrgID, Name: name, Permissions: perms}
	err := s.store.Tx(ctx, func(tx Tx) error {
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		return s.append(ctx, tx, a.event(ActionRoleCreated, nil, OutcomeSuccess,
			map[string]any{"role": name, "permissions": perms}))
	})
	if err != nil {
		return Role{}, wrap(op, err)
	}
	return r, nil
}

// RolePatch changes a role; nil fields stay.
type RolePatch struct {
	Name        *string
	Permissions *[]Permission
}

// UpdateRole renames a role or changes its permissions. Default roles keep
// their names, and Administrator keeps every permission. Returns not_found,
// forbidden (also when the role holds, or would hold, a permission the actor
// lacks), validation_failed, conflict.
func (s *Service) UpdateRole(ctx context.Context, a Actor, name string, p RolePatch) (Role, error) {
	const op = "account.UpdateRole"
	if !a.Has(PermRolesManage) {
		return Role{}, wrap(op, errForbidden)
	}
	var out Role
	err := s.store.Tx(ctx, func(tx Tx) error {
		rs, err := tx.Roles(ctx, a.OrgID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(rs, func(r Role) bool { return r.Name == name })
		if i < 0 {
			return &Error{Code: CodeNotFound, Message: "No such role."}
		}
		r := rs[i]
		if err := a.canGrant(NewPermissionSet(r.Permissions...)); err != nil {
			return err
		}
		next := r
		if p.Name != nil {
			next.Name = strings.TrimSpace(*p.Name)
		}
		if p.Permissions != nil {
			next.Permissions = uniquePerms(*p.Permissions)
		}
		if d := validateRole(next.Name, next.Permissions); len(d) > 0 {
			return &Error{Code: CodeValidation, Message: "Some values are not valid.", Details: d}
		}
		if r.Builtin && next.Name != r.Name {
			return &Error{Code: CodeConflict, Message: "Default roles cannot be renamed."}
		}
		if r.Name == RoleAdministrator && len(next.Permissions) != len(AllPermissions) {
			return &Error{Code: CodeConflict, Message: "The Administrator role keeps every permission."}
		}
		if err := a.canGrant(NewPermissionSet(next.Permissions...)); err != nil {
			return err
		}
		if err := tx.UpdateRole(ctx, a.OrgID, r.Name, next); err != nil {
			return err
		}
		out = next
		d := map[string]any{"role": next.Name, "permissions": next.Permissions,
			"previous_permissions": uniquePerms(r.Permissions)}
		if next.Name != r.Name {
			d["previous_name"] = r.Name
		}
		return s.append(ctx, tx, a.event(ActionRoleUpdated, nil, OutcomeSuccess, d))
	})
	if err != nil {
		return Role{}, wrap(op, err)
	}
	return out, nil
}

// DeleteRole removes a custom role no user holds. Returns not_found,
// forbidden, conflict for a default role, role_in_use.
func (s *Service) DeleteRole(ctx context.Context, a Actor, name string) error {
	const op = "account.DeleteRole"
	if !a.Has(PermRolesManage) {
		return wrap(op, errForbidden)
	}
	err := s.store.Tx(ctx, func(tx Tx) error {
		rs, err := tx.Roles(ctx, a.OrgID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(rs, func(r Role) bool { return r.Name == name })
		if i < 0 {
			return &Error{Code: CodeNotFound, Message: "No such role."}
		}
		if rs[i].Builtin {
			return &Error{Code: CodeConflict, Message: "Default roles cannot be deleted."}
		}
		if err := a.canGrant(NewPermissionSet(rs[i].Permissions...)); err != nil {
			return err
		}
		if n, err := tx.CountUsersWithRole(ctx, a.OrgID, name, false); err != nil {
			return err
		} else if n > 0 {
			return &Error{Code: CodeRoleInUse, Message: "Users still hold this role; give them another role first."}
		}
		if err := tx.DeleteRole(ctx, a.OrgID, name); err != nil {
			return err
		}
		return s.append(ctx, tx, a.event(ActionRoleDeleted, nil, OutcomeSuccess, map[string]any{"role": name}))
	})
	return wrap(op, err)
}
