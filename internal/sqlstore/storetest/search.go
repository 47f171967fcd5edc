package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/latchkey/latchkey/internal/account"
)

// searchUser is one row of the search fixture.
type searchUser struct {
	name, email string
	kind        account.Kind
	status      account.Status
	roles       []string
}

// searchFixture has accents, case, collapsed spaces, LIKE metacharacters,
// quotes, backslashes and non-Latin scripts in names and emails.
var searchFixture = []searchUser{
	{"Émile Zola", "emile.zola@example.org", account.KindStaff, account.StatusActive, []string{account.RoleAdministrator}},
	{"emile Adams", "e.adams@example.org", account.KindStaff, account.StatusActive, nil},
	{"Zoé  Martin", "zoe@example.org", account.KindResident, account.StatusActive, nil},
	{"Ann Lee", "ann@example.org", account.KindStaff, account.StatusActive, []string{account.RoleUser}},
	{"ann lee", "ann.lee@example.net", account.KindStaff, account.StatusDisabled, []string{account.RoleUser}},
	{"Anne-Marie Dupont", "amd@example.org", account.KindBusiness, account.StatusInvited, nil},
	{"Bob O'Brien", "o'brien@example.org", account.KindResident, account.StatusActive, nil},
	{"Chloé 100% Réel", "chloe@example.org", account.KindResident, account.StatusForcePasswordReset, nil},
	{"Percy Sign", "percent%sign@example.org", account.KindStaff, account.StatusActive, nil},
	{"under_score", "under_score@example.org", account.KindStaff, account.StatusActive, []string{account.RoleCommunityManager}},
	{`Back\Slash`, `back.slash@example.org`, account.KindStaff, account.StatusActive, nil},
	{"Łukasz Nowak", "lukasz.nowak@example.org", account.KindResident, account.StatusActive, nil},
	{"Søren Kierkegaard", "soren@example.org", account.KindResident, account.StatusActive, nil},
	{"Jürgen Müller", "juergen@example.org", account.KindStaff, account.StatusActive, []string{account.RoleUser, account.RoleCommunityManager}},
	{"José Núñez", "jose@example.org", account.KindBusiness, account.StatusActive, nil},
	{"李小龍", "bruce@example.org", account.KindResident, account.StatusActive, nil},
	{`Quote "Q" Mark`, "quote@example.org", account.KindStaff, account.StatusActive, nil},
	{"X", "x@example.org", account.KindStaff, account.StatusActive, nil},
	{"Renée d'Arc", "renee@example.org", account.KindResident, account.StatusDisabled, nil},
	{"zed", "zed@example.org", account.KindStaff, account.StatusActive, []string{account.RoleAdministrator}},
}

// mustSearchFixture creates searchFixture in org and returns the users as
// created (with IDs and roles).
func mustSearchFixture(t *testing.T, s account.Store, org account.OrgID) []account.User {
	t.Helper()
	var users []account.User
	update(t, s, func(tx account.Tx) error {
		for _, f := range searchFixture {
			u := newUser(org, f.email, f.roles...)
			u.Name, u.Kind, u.Status = f.name, f.kind, f.status
			if err := tx.CreateUser(context.Background(), &u); err != nil {
				return fmt.Errorf("CreateUser(%q): %w", f.name, err)
			}
			u.Roles = slices.Clone(f.roles)
			users = append(users, u)
		}
		return nil
	})
	return users
}

// compareUsers is the list's order: (FoldName(name), id).
func compareUsers(a, b account.User) int {
	return cmp.Or(strings.Compare(account.FoldName(a.Name), account.FoldName(b.Name)), cmp.Compare(a.ID, b.ID))
}

// matchUser is the specification of UserFilter, without After and Limit.
func matchUser(u account.User, f account.UserFilter) bool {
	contains := func(s, sub string) bool { return strings.Contains(s, sub) }
	email := func(q string) string { return strings.ToLower(strings.TrimSpace(q)) }
	switch {
	case !slices.Contains(f.Kinds, u.Kind),
		f.Status != "" && u.Status != f.Status,
		f.ID != nil && u.ID != *f.ID,
		f.Role != "" && !slices.Contains(u.Roles, f.Role),
		f.Email != "" && !contains(u.Email, email(f.Email)),
		f.Name != "" && !contains(account.FoldName(u.Name), account.FoldName(f.Name)):
		return false
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		id, err := strconv.ParseInt(q, 10, 64)
		isID := err == nil && id > 0 && u.ID == account.UserID(id)
		if !isID && !contains(u.Email, email(q)) && !contains(account.FoldName(u.Name), account.FoldName(q)) {
			return false
		}
	}
	return true
}

// wantUsers returns the users matching f, in the list's order, after f.After.
func wantUsers(all []account.User, f account.UserFilter) []account.User {
	var out []account.User
	for _, u := range all {
		if f.After != nil && compareUsers(u, account.User{Name: f.After.NameKey, ID: f.After.ID}) <= 0 {
			continue
		}
		if matchUser(u, f) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, compareUsers)
	return out
}

// listUsers runs ListUsers in a View.
func listUsers(t *testing.T, s account.Store, org account.OrgID, f account.UserFilter) []account.User {
	t.Helper()
	var got []account.User
	view(t, s, func(tx account.Tx) (err error) {
		got, err = tx.ListUsers(context.Background(), org, f)
		if err != nil {
			return fmt.Errorf("ListUsers(%+v): %w", f, err)
		}
		return nil
	})
	return got
}

// names returns "name #id" of each user, for failure messages that show
// order as well as membership.
func names(us []account.User) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, fmt.Sprintf("%s #%d", u.Name, u.ID))
	}
	return out
}

// cursorAfter is the cursor of the last user of a page, as the service
// makes it.
func cursorAfter(u account.User) *account.UserCursor {
	return &account.UserCursor{NameKey: account.FoldName(u.Name), ID: u.ID}
}

var allKinds = []account.Kind{account.KindStaff, account.KindResident, account.KindBusiness}

func testSearch(t *testing.T, s account.Store) {
	o := mustOrg(t, s, "springfield")
	other := mustOrg(t, s, "shelbyville")
	all := mustSearchFixture(t, s, o.ID)
	mustSearchFixture(t, s, other.ID) // the same people in another org: never listed
	byName := map[string]account.User{}
	for _, u := range all {
		byName[u.Name] = u
	}
	id := func(name string) *account.UserID {
		v := byName[name].ID
		return &v
	}

	// The specification, spelled out for the cases that matter most, so
	// that matchUser itself is checked.
	explicit := []struct {
		name string
		f    account.UserFilter
		want []string
	}{
		{"accent folded both ways", account.UserFilter{Q: "ÉMILE"}, []string{"emile Adams", "Émile Zola"}},
		{"accents in the query", account.UserFilter{Q: "émile z"}, []string{"Émile Zola"}},
		{"spaces collapsed", account.UserFilter{Q: "zoé martin"}, []string{"Zoé  Martin"}},
		{"percent is literal", account.UserFilter{Q: "%"}, []string{"Chloé 100% Réel", "Percy Sign"}},
		{"underscore is literal", account.UserFilter{Q: "_"}, []string{"under_score"}},
		{"quote is literal", account.UserFilter{Q: "'"}, []string{"Bob O'Brien", "Renée d'Arc"}},
		{"backslash is literal", account.UserFilter{Q: `\`}, []string{`Back\Slash`}},
		{"double quote is literal", account.UserFilter{Q: `"q"`}, []string{`Quote "Q" Mark`}},
		{"SQL is literal", account.UserFilter{Q: "' OR 1=1 --"}, nil},
		{"no wildcard inside", account.UserFilter{Q: "a%e"}, nil},
		{"exact ID", account.UserFilter{Q: strconv.FormatInt(int64(byName["zed"].ID), 10)}, []string{"zed"}},
		{"email prefix", account.UserFilter{Email: "ANN"}, []string{"Ann Lee", "ann lee"}},
		{"email substring", account.UserFilter{Email: "example.net"}, []string{"ann lee"}},
		{"name substring", account.UserFilter{Name: "ller"}, []string{"Jürgen Müller"}},
		{"role", account.UserFilter{Role: account.RoleAdministrator}, []string{"Émile Zola", "zed"}},
		{"status", account.UserFilter{Status: account.StatusDisabled}, []string{"ann lee", "Renée d'Arc"}},
		{"kind", account.UserFilter{Kinds: []account.Kind{account.KindBusiness}}, []string{"Anne-Marie Dupont", "José Núñez"}},
		{"no kinds, no users", account.UserFilter{Kinds: []account.Kind{}}, nil},
		{"ID", account.UserFilter{ID: id("X")}, []string{"X"}},
		{"one character", account.UserFilter{Q: "Ø"}, []string{"Søren Kierkegaard"}},
		{"two characters", account.UserFilter{Q: "ÜL"}, []string{"Jürgen Müller"}},
		{"CJK", account.UserFilter{Q: "小龍"}, []string{"李小龍"}},
		{"NUL matches nothing", account.UserFilter{Q: "ann\x00"}, nil},
	}
	for _, tt := range explicit {
		f := tt.f
		if f.Kinds == nil {
			f.Kinds = allKinds
		}
		f.Limit = 100
		var got []string
		for _, u := range listUsers(t, s, o.ID, f) {
			got = append(got, u.Name)
		}
		if diff := gocmp.Diff(tt.want, got, cmpNilIsEmpty); diff != "" {
			t.Errorf("%s: ListUsers(%+v) (-want +got):\n%s", tt.name, f, diff)
		}
	}

	qs := []string{"", "emile", "ÉMILE", "Emile Z", "mil", "zoé martin", "an", "a", "e", "ee", "%", "_", "'", `\`, `"`,
		"' OR 1=1 --", "a%e", "a_n", "ürg", "urg", "lukasz", "łukasz", "søren", "李", "example.org", "@", "ann@",
		"ANN@EXAMPLE", "no such person", " \t", "100%", "ann\x00", "--", "; DROP TABLE users; --",
		strconv.FormatInt(int64(byName["Ann Lee"].ID), 10), strconv.FormatInt(int64(byName["zed"].ID)+1000, 10), "0", "-1",
		"\u0301" /* folds to "" */, "ü" /* NFC */, "u\u0308" /* NFD */}
	var filters []account.UserFilter
	for _, q := range qs {
		filters = append(filters, account.UserFilter{Q: q})
	}
	filters = append(filters,
		account.UserFilter{Email: "ann"}, account.UserFilter{Email: "EXAMPLE.ORG"}, account.UserFilter{Email: "%"},
		account.UserFilter{Email: "_s"}, account.UserFilter{Email: "o'b"}, account.UserFilter{Name: "lee"},
		account.UserFilter{Name: "ÉMI"}, account.UserFilter{Name: "'"}, account.UserFilter{Name: "Müller"},
		account.UserFilter{Name: "ll"}, account.UserFilter{Name: "  "}, account.UserFilter{Email: "ann\x00"},
		account.UserFilter{Name: "ann\x00"},
		account.UserFilter{Q: "ann", Status: account.StatusDisabled},
		account.UserFilter{Q: "e", Role: account.RoleAdministrator},
		account.UserFilter{Q: "example", Role: account.RoleUser},
		account.UserFilter{Role: account.RoleCommunityManager},
		account.UserFilter{Role: "No Such Role"},
		account.UserFilter{Q: "example", Kinds: []account.Kind{account.KindResident}},
		account.UserFilter{Q: "e", Kinds: []account.Kind{account.KindStaff, account.KindBusiness}},
		account.UserFilter{Q: "example", Email: "org", Name: "an"},
		account.UserFilter{Q: "emile", Email: "adams"},
		account.UserFilter{Email: "ann", Name: "lee", Status: account.StatusActive},
		account.UserFilter{ID: id("Ann Lee"), Q: "ann"},
		account.UserFilter{ID: id("Ann Lee"), Q: "zed"},
		account.UserFilter{Q: strconv.FormatInt(int64(byName["Ann Lee"].ID), 10), Status: account.StatusDisabled},
	)
	for _, f := range filters {
		if f.Kinds == nil {
			f.Kinds = allKinds
		}
		f.Limit = 100
		want := wantUsers(all, f)
		got := listUsers(t, s, o.ID, f)
		if diff := gocmp.Diff(names(want), names(got)); diff != "" {
			t.Errorf("ListUsers(%+v) (-want +got):\n%s", f, diff)
			continue
		}
		// The same, three at a time through the cursor.
		var paged []account.User
		for p := 0; ; p++ {
			f.Limit = 3
			page := listUsers(t, s, o.ID, f)
			paged = append(paged, page...)
			if len(page) < 3 || p > len(all) {
				break
			}
			f.After = cursorAfter(page[len(page)-1])
		}
		if diff := gocmp.Diff(names(want), names(paged)); diff != "" {
			t.Errorf("ListUsers(%+v) by pages of 3 (-want +got):\n%s", f, diff)
		}
	}

	// Every returned user is whole: roles and permissions as UserByID has them.
	got := listUsers(t, s, o.ID, account.UserFilter{Kinds: allKinds, Limit: 100})
	for _, u := range got {
		if diff := gocmp.Diff(getUser(t, s, o.ID, u.ID), u, cmpUser...); diff != "" {
			t.Errorf("ListUsers row for %q differs from UserByID (-UserByID +ListUsers):\n%s", u.Name, diff)
		}
	}

	// Limit is clamped to 1..500.
	for _, tt := range []struct{ limit, want int }{{0, 1}, {-5, 1}, {1, 1}, {7, 7}, {100000, len(all)}} {
		if got := listUsers(t, s, o.ID, account.UserFilter{Kinds: allKinds, Limit: tt.limit}); len(got) != tt.want {
			t.Errorf("ListUsers(Limit %d) = %d users, want %d", tt.limit, len(got), tt.want)
		}
	}
	if got := listUsers(t, s, other.ID+1000, account.UserFilter{Kinds: allKinds, Limit: 10}); len(got) != 0 {
		t.Errorf("ListUsers(missing org) = %v, want none", names(got))
	}
}

// cmpNilIsEmpty treats a nil list of names as an empty one.
var cmpNilIsEmpty = gocmp.Transformer("nilIsEmpty", func(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
})

// testSearchKeysetWhileInserting pages through ~100 users while others are
// inserted before and after the cursor between pages: the pages stay in
// order, without duplicates, and hold every user that existed before.
func testSearchKeysetWhileInserting(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	first := []string{"Ana", "Émile", "Zoé", "Noël", "bob", "Chloé", "Ann", "ann"}
	last := []string{"Lee", "Martin", "Dupont", "Müller", "O'Brien", "Núñez", "García", "Smith", "Ngô", "Kim", "Øst", "Adams", "Zola"}
	var before []account.User
	update(t, s, func(tx account.Tx) error {
		for i := range 104 {
			u := newUser(o.ID, fmt.Sprintf("user%d@example.org", i))
			u.Name = first[i%len(first)] + " " + last[i%len(last)]
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			before = append(before, u)
		}
		return nil
	})
	f := account.UserFilter{Kinds: allKinds, Limit: 9}
	seen := map[account.UserID]bool{}
	var prev *account.User
	added := 0
	for page := 0; ; page++ {
		got := listUsers(t, s, o.ID, f)
		for i := range got {
			u := got[i]
			if seen[u.ID] {
				t.Fatalf("page %d: %q #%d listed twice", page, u.Name, u.ID)
			}
			seen[u.ID] = true
			if prev != nil && compareUsers(*prev, u) >= 0 {
				t.Fatalf("page %d: %q #%d listed after %q #%d", page, u.Name, u.ID, prev.Name, prev.ID)
			}
			prev = &got[i]
		}
		if len(got) < f.Limit {
			break
		}
		if page > 100 {
			t.Fatal("paging does not end")
		}
		// Between pages: one user sorting before the cursor, one after, one
		// with the cursor's very name (so sorting by id).
		cur := got[len(got)-1]
		update(t, s, func(tx account.Tx) error {
			for _, name := range []string{"Aaron " + strconv.Itoa(page), "Zz " + strconv.Itoa(page), cur.Name} {
				u := newUser(o.ID, fmt.Sprintf("added%d@example.org", added))
				u.Name = name
				added++
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
			}
			return nil
		})
		f.After = cursorAfter(cur)
	}
	for _, u := range before {
		if !seen[u.ID] {
			t.Errorf("%q #%d, there before paging began, was never listed", u.Name, u.ID)
		}
	}
}

// testSearchFollowsWrites checks that a rename, an email change and a delete
// show in the search at once, by trigram-sized and by shorter texts.
func testSearchFollowsWrites(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	all := mustSearchFixture(t, s, o.ID)
	ann := all[3] // Ann Lee
	find := func(q string) []string {
		t.Helper()
		return names(listUsers(t, s, o.ID, account.UserFilter{Q: q, Kinds: allKinds, Limit: 100}))
	}
	has := func(q string, want bool) {
		t.Helper()
		got := find(q)
		if slices.Contains(got, fmt.Sprintf("%s #%d", ann.Name, ann.ID)) != want {
			t.Errorf("after the change, ListUsers(Q %q) = %v; want user %d listed: %v", q, got, ann.ID, want)
		}
	}
	update(t, s, func(tx account.Tx) error {
		u, err := tx.UserByID(ctx, o.ID, ann.ID)
		if err != nil {
			return err
		}
		u.Name = "Ännika Quorra"
		u.Email = "aq@example.com"
		ann = u
		return tx.UpdateUser(ctx, &u)
	})
	has("ann lee", false)
	has("ann@ex", false)
	has("annika quo", true)
	has("qu", true)
	has("aq@example.com", true)
	got := names(listUsers(t, s, o.ID, account.UserFilter{Kinds: allKinds, Limit: 100}))
	all[3] = ann
	if diff := gocmp.Diff(names(wantUsers(all, account.UserFilter{Kinds: allKinds})), got); diff != "" {
		t.Errorf("order after a rename (-want +got):\n%s", diff)
	}

	update(t, s, func(tx account.Tx) error { return tx.DeleteUser(ctx, o.ID, ann.ID) })
	has("annika", false)
	has("qu", false)
	has(strconv.FormatInt(int64(ann.ID), 10), false)
}

func testRoleChanges(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	other := mustOrg(t, s, "shelbyville")
	perms := []account.Permission{account.PermUsersRead, account.PermAuditRead}
	update(t, s, func(tx account.Tx) error {
		if err := tx.CreateRole(ctx, account.Role{OrgID: o.ID, Name: "Clerk", Permissions: perms}); err != nil {
			return err
		}
		return tx.CreateRole(ctx, account.Role{OrgID: other.ID, Name: "Clerk"})
	})
	ann := mustUser(t, s, o.ID, "ann@example.org", "Clerk", account.RoleUser)
	bob := mustUser(t, s, o.ID, "bob@example.org", "Clerk")
	mustUser(t, s, other.ID, "cy@example.org", "Clerk")
	roles := func(org account.OrgID) map[string]account.Role {
		t.Helper()
		m := map[string]account.Role{}
		view(t, s, func(tx account.Tx) error {
			rs, err := tx.Roles(ctx, org)
			for _, r := range rs {
				m[r.Name] = r
			}
			return err
		})
		return m
	}
	count := func(role string, activeOnly bool) int {
		t.Helper()
		var n int
		view(t, s, func(tx account.Tx) (err error) {
			n, err = tx.CountUsersWithRole(ctx, o.ID, role, activeOnly)
			return err
		})
		return n
	}

	if n := count("Clerk", false); n != 2 {
		t.Errorf("CountUsersWithRole(Clerk) = %d, want 2 (not counting the other org's)", n)
	}
	b := getUser(t, s, o.ID, bob.ID)
	b.Status = account.StatusDisabled
	update(t, s, func(tx account.Tx) error { return tx.UpdateUser(ctx, &b) })
	if n := count("Clerk", true); n != 1 {
		t.Errorf("CountUsersWithRole(Clerk, activeOnly) = %d, want 1 (bob is disabled)", n)
	}
	if n := count("Clerk", false); n != 2 {
		t.Errorf("CountUsersWithRole(Clerk) with bob disabled = %d, want 2", n)
	}
	if n := count("Nobody", false); n != 0 {
		t.Errorf("CountUsersWithRole(unknown role) = %d, want 0", n)
	}

	// Rename and change permissions.
	newPerms := []account.Permission{account.PermUsersUpdate, account.PermUsersRead, account.PermUsersRead}
	update(t, s, func(tx account.Tx) error {
		return tx.UpdateRole(ctx, o.ID, "Clerk", account.Role{OrgID: o.ID, Name: "Registrar", Permissions: newPerms})
	})
	rs := roles(o.ID)
	if _, ok := rs["Clerk"]; ok {
		t.Error("role Clerk still listed after its rename")
	}
	want := account.Role{OrgID: o.ID, Name: "Registrar", Permissions: []account.Permission{account.PermUsersRead, account.PermUsersUpdate}}
	if diff := gocmp.Diff(want, rs["Registrar"]); diff != "" {
		t.Errorf("role after UpdateRole (-want +got):\n%s", diff)
	}
	if _, ok := roles(other.ID)["Clerk"]; !ok {
		t.Error("the other org's Clerk was renamed too")
	}
	got := getUser(t, s, o.ID, ann.ID)
	if diff := gocmp.Diff([]string{"Registrar", account.RoleUser}, got.Roles); diff != "" {
		t.Errorf("holder's roles after the rename (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff(account.NewPermissionSet(account.PermUsersRead, account.PermUsersUpdate), got.Permissions); diff != "" {
		t.Errorf("holder's permissions after the change (-want +got):\n%s", diff)
	}

	// Permissions only, of a builtin role: the flag stays.
	update(t, s, func(tx account.Tx) error {
		return tx.UpdateRole(ctx, o.ID, account.RoleUser, account.Role{Name: account.RoleUser, Permissions: []account.Permission{account.PermAuditRead}})
	})
	if r := roles(o.ID)[account.RoleUser]; !r.Builtin || !slices.Equal(r.Permissions, []account.Permission{account.PermAuditRead}) {
		t.Errorf("builtin role after UpdateRole = %+v, want builtin with [audit.read]", r)
	}

	err := s.Tx(ctx, func(tx account.Tx) error {
		return tx.UpdateRole(ctx, o.ID, "Registrar", account.Role{Name: account.RoleAdministrator})
	})
	wantCode(t, "UpdateRole(to a taken name)", err, account.CodeConflict)
	err = s.Tx(ctx, func(tx account.Tx) error {
		return tx.UpdateRole(ctx, o.ID, "Clerk", account.Role{Name: "Anything"})
	})
	wantNotFound(t, "UpdateRole(missing)", err)
	if _, ok := roles(o.ID)["Registrar"]; !ok {
		t.Error("Registrar gone after a failed UpdateRole")
	}

	// Delete: refused while held, then done; the name is free again.
	err = s.Tx(ctx, func(tx account.Tx) error { return tx.DeleteRole(ctx, o.ID, "Registrar") })
	wantCode(t, "DeleteRole(held)", err, account.CodeRoleInUse)
	update(t, s, func(tx account.Tx) error {
		if err := tx.SetUserRoles(ctx, o.ID, ann.ID, []string{account.RoleUser}); err != nil {
			return err
		}
		return tx.SetUserRoles(ctx, o.ID, bob.ID, nil)
	})
	update(t, s, func(tx account.Tx) error { return tx.DeleteRole(ctx, o.ID, "Registrar") })
	if _, ok := roles(o.ID)["Registrar"]; ok {
		t.Error("Registrar listed after DeleteRole")
	}
	err = s.Tx(ctx, func(tx account.Tx) error { return tx.DeleteRole(ctx, o.ID, "Registrar") })
	wantNotFound(t, "DeleteRole(twice)", err)
	err = s.Tx(ctx, func(tx account.Tx) error { return tx.DeleteRole(ctx, o.ID, "Clerk") })
	wantNotFound(t, "DeleteRole(renamed away)", err)
	update(t, s, func(tx account.Tx) error { return tx.CreateRole(ctx, account.Role{OrgID: o.ID, Name: "Registrar"}) })
	if r := roles(o.ID)["Registrar"]; len(r.Permissions) != 0 {
		t.Errorf("recreated role has the deleted one's permissions %v", r.Permissions)
	}
	if _, ok := roles(other.ID)["Clerk"]; !ok {
		t.Error("the other org's Clerk was deleted")
	}

	// LockOrg: an existing org is fine, a missing one is not found.
	update(t, s, func(tx account.Tx) error { return tx.LockOrg(ctx, o.ID) })
	err = s.Tx(ctx, func(tx account.Tx) error { return tx.LockOrg(ctx, other.ID+1000) })
	wantNotFound(t, "LockOrg(missing)", err)
}

// testReadModifyWrite runs concurrent read-modify-write transactions on one
// user (UserByID in Tx, then UpdateUser): none may be lost, which on
// PostgreSQL needs UserByID to lock the row.
func testReadModifyWrite(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org")
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := s.Tx(ctx, func(tx account.Tx) error {
				var v account.User
				var err error
				if i%2 == 0 {
					v, err = tx.UserByID(ctx, o.ID, u.ID)
				} else {
					v, err = tx.UserByEmail(ctx, o.ID, u.Email)
				}
				if err != nil {
					return err
				}
				v.FailedLogins++
				return tx.UpdateUser(ctx, &v)
			})
			if err != nil {
				t.Errorf("read-modify-write: %v", err)
			}
		})
	}
	wg.Wait()
	if got := getUser(t, s, o.ID, u.ID).FailedLogins; got != n {
		t.Errorf("FailedLogins after %d concurrent read-modify-writes = %d, want %d (updates lost)", n, got, n)
	}
}
