package account

import (
	"slices"
	"sort"
)

// Permission is one thing a role allows.
type Permission string

// The permissions of API.md.
const (
	PermUsersRead       Permission = "users.read"
	PermUsersCreate     Permission = "users.create"
	PermUsersUpdate     Permission = "users.update"
	PermUsersDelete     Permission = "users.delete"
	PermUsersImport     Permission = "users.import"
	PermCommunityRead   Permission = "community.read"
	PermCommunityCreate Permission = "community.create"
	PermCommunityUpdate Permission = "community.update"
	PermCommunityDelete Permission = "community.delete"
	PermCommunityImport Permission = "community.import"
	PermRolesManage     Permission = "roles.manage"
	PermAuditRead       Permission = "audit.read"
	PermOrgManage       Permission = "org.manage"
)

// AllPermissions lists every permission, in a stable order.
var AllPermissions = []Permission{
	PermUsersRead, PermUsersCreate, PermUsersUpdate, PermUsersDelete, PermUsersImport,
	PermCommunityRead, PermCommunityCreate, PermCommunityUpdate, PermCommunityDelete, PermCommunityImport,
	PermRolesManage, PermAuditRead, PermOrgManage,
}

// ValidPermission reports whether p is a known permission.
func ValidPermission(p Permission) bool { return slices.Contains(AllPermissions, p) }

// Names of the default roles every organization has.
const (
	RoleAdministrator    = "Administrator"
	RoleUser             = "User"
	RoleCommunityManager = "Community Manager"
)

// Role is a named set of permissions within an organization.
type Role struct {
	OrgID       OrgID
	Name        string
	Permissions []Permission
	Builtin     bool
}

// DefaultRoles returns the roles of a new organization.
func DefaultRoles(org OrgID) []Role {
	return []Role{
		{OrgID: org, Name: RoleAdministrator, Permissions: slices.Clone(AllPermissions), Builtin: true},
		{OrgID: org, Name: RoleUser, Permissions: []Permission{}, Builtin: true},
		{OrgID: org, Name: RoleCommunityManager, Permissions: []Permission{
			PermCommunityRead, PermCommunityCreate, PermCommunityUpdate, PermCommunityDelete, PermCommunityImport,
		}, Builtin: true},
	}
}

// PermissionSet is a set of permissions.
type PermissionSet map[Permission]bool

// NewPermissionSet returns the set of ps.
func NewPermissionSet(ps ...Permission) PermissionSet {
	s := PermissionSet{}
	for _, p := range ps {
		s[p] = true
	}
	return s
}

// Has reports whether the set holds p.
func (s PermissionSet) Has(p Permission) bool { return s[p] }

// Covers reports whether s holds every permission of o.
func (s PermissionSet) Covers(o PermissionSet) bool {
	for p := range o {
		if !s[p] {
			return false
		}
	}
	return true
}

// List returns the permissions in a stable order.
func (s PermissionSet) List() []Permission {
	out := make([]Permission, 0, len(s))
	for p := range s {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
