package account

import "context"

// Action verbs of the permission matrix, applied to a user's kind.
type verb string

const (
	verbRead   verb = "read"
	verbCreate verb = "create"
	verbUpdate verb = "update"
	verbDelete verb = "delete"
	verbImport verb = "import"
)

// permFor is the permission a verb needs on users of kind k: users.* for
// staff, community.* for residents and businesses.
func permFor(k Kind, v verb) Permission {
	if k.Community() {
		return Permission("community." + string(v))
	}
	return Permission("users." + string(v))
}

var errForbidden = &Error{Code: CodeForbidden, Message: "You do not have permission to do that."}

// errUserNotFound is the answer for a user one may not see, worded exactly
// as for one that does not exist.
func errUserNotFound() *Error { return &Error{Code: CodeNotFound, Message: "Not found."} }

// Has reports whether the actor holds p.
func (a Actor) Has(p Permission) bool { return a.Permissions.Has(p) }

// CanSee reports whether the actor may see users of kind k.
func (a Actor) CanSee(k Kind) bool { return a.Has(permFor(k, verbRead)) }

// visibleKinds are the kinds whose users the actor may read.
func (a Actor) visibleKinds() []Kind {
	var ks []Kind
	for _, k := range []Kind{KindStaff, KindResident, KindBusiness} {
		if a.CanSee(k) {
			ks = append(ks, k)
		}
	}
	return ks
}

// canManage decides whether the actor may apply v to u: another
// organization's user, or one of a kind the actor cannot read, is not_found;
// without the verb's permission, or when u holds a permission the actor
// lacks (no takeover upward; seeing such a user is fine), forbidden.
func (a Actor) canManage(u User, v verb) error {
	if u.OrgID != a.OrgID || !a.CanSee(u.Kind) {
		return errUserNotFound()
	}
	if !a.Has(permFor(u.Kind, v)) {
		return errForbidden
	}
	if v != verbRead && u.ID != a.UserID && !a.Permissions.Covers(u.Permissions) {
		return &Error{Code: CodeForbidden, Message: "This user holds permissions you do not have."}
	}
	return nil
}

// canGrant refuses roles whose permissions go beyond the actor's own.
func (a Actor) canGrant(perms PermissionSet) error {
	if !a.Permissions.Covers(perms) {
		return &Error{Code: CodeForbidden, Message: "You cannot grant permissions you do not have."}
	}
	return nil
}

// OperatorActor is the operator at the command line: every permission in one
// organization, and no user behind it (the audit log records no actor ID
// and "via": "cli").
func (s *Service) OperatorActor(ctx context.Context, orgSlug string) (Actor, error) {
	o, err := s.OrgBySlug(ctx, orgSlug)
	if err != nil {
		return Actor{}, err
	}
	return Actor{OrgID: o.ID, OrgSlug: o.Slug, Permissions: NewPermissionSet(AllPermissions...),
		Client: Client{UserAgent: "latchkey-cli"}}, nil
}
