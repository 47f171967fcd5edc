package web_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// call sends v as JSON (or nothing when v is nil) and decodes the answer.
func (e *env) call(method, path, token string, v any) (int, map[string]any) {
	e.t.Helper()
	body := ""
	if v != nil {
		if s, ok := v.(string); ok {
			body = s
		} else {
			b, _ := json.Marshal(v)
			body = string(b)
		}
	}
	st, b, _ := e.do(method, path, token, body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatalf("%s %s: %d, not JSON: %s", method, path, st, b)
		}
	}
	return st, m
}

func code(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func fields(m map[string]any) []string {
	e, _ := m["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	var out []string
	for _, d := range ds {
		f, _ := d.(map[string]any)["field"].(string)
		out = append(out, f)
	}
	return out
}

// createUser makes a user through the API and returns its ID.
func (e *env) createUser(token string, v map[string]any) int {
	e.t.Helper()
	st, m := e.call("POST", "/api/v1/users", token, v)
	if st != 201 {
		e.t.Fatalf("create %v: %d %v", v, st, m)
	}
	return int(m["user"].(map[string]any)["id"].(float64))
}

func (e *env) loginAs(org, email, pw string) (int, string) {
	e.t.Helper()
	st, m := e.call("POST", "/api/v1/auth/login", "", map[string]string{"org": org, "email": email, "password": pw})
	tok, _ := m["token"].(string)
	return st, tok
}

const pw = "a-good-long-password"

func TestUsers_CRUD(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	st, m := e.call("POST", "/api/v1/users", admin, map[string]any{"email": "  Cy@Example.ORG ", "name": "Cy Young",
		"kind": "staff", "roles": []string{"User"}, "password": pw})
	if st != 201 {
		t.Fatalf("create: %d %v", st, m)
	}
	u := m["user"].(map[string]any)
	if u["email"] != "cy@example.org" || u["status"] != "active" || u["kind"] != "staff" || u["auth_source"] != "local" {
		t.Errorf("created user: %v", u)
	}
	if _, ok := m["temporary_password"]; ok {
		t.Errorf("a temporary password without asking: %v", m)
	}
	id := int(u["id"].(float64))
	path := "/api/v1/users/" + strconv.Itoa(id)

	// The email is taken whatever its case and spaces.
	st, m = e.call("POST", "/api/v1/users", admin, map[string]any{"email": "CY@example.org ", "name": "Other", "kind": "staff"})
	if st != 409 || code(m) != "email_taken" {
		t.Errorf("duplicate email: %d %v", st, m)
	}
	// Every bad field is named.
	st, m = e.call("POST", "/api/v1/users", admin, map[string]any{"email": "no-at-sign", "name": strings.Repeat("n", 10000),
		"kind": "alien", "roles": []string{"Wizard"}})
	if st != 422 || code(m) != "validation_failed" {
		t.Fatalf("bad create: %d %v", st, m)
	}
	got := strings.Join(fields(m), ",")
	for _, f := range []string{"email", "name", "kind", "roles"} {
		if !strings.Contains(got, f) {
			t.Errorf("bad create: details %v do not name %s", got, f)
		}
	}
	if st, m := e.call("POST", "/api/v1/users", admin, map[string]any{"email": "d@example.org", "name": "D", "password": "short"}); st != 422 || code(m) != "password_policy" {
		t.Errorf("short password: %d %v", st, m)
	}
	if st, m := e.call("POST", "/api/v1/users", admin, map[string]any{"email": "d@example.org", "name": "D", "id": 7}); st != 400 || code(m) != "read_only_field" {
		t.Errorf("id on create: %d %v", st, m)
	}
	if st, m := e.call("POST", "/api/v1/users", admin, map[string]any{"email": "d@example.org", "name": "D", "pasword": "x"}); st != 400 || code(m) != "unknown_field" {
		t.Errorf("typo on create: %d %v", st, m)
	}
	// Nothing of the refused requests was written.
	if st, m := e.call("GET", "/api/v1/users?q=d%40example.org", admin, nil); st != 200 || len(m["users"].([]any)) != 0 {
		t.Errorf("refused creates left users: %v", m)
	}

	// Get, patch.
	if st, m := e.call("GET", path, admin, nil); st != 200 || m["email"] != "cy@example.org" || m["recent_emails"] == nil {
		t.Errorf("get: %d %v", st, m)
	}
	st, m = e.call("PATCH", path, admin, map[string]any{"name": "Cy Young-Lee", "email": "cyl@example.org"})
	if st != 200 || m["name"] != "Cy Young-Lee" || m["email"] != "cyl@example.org" {
		t.Errorf("patch: %d %v", st, m)
	}
	for _, f := range []string{"id", "failed_logins", "locked_until", "created_at", "kind", "last_login_at"} {
		if st, m := e.call("PATCH", path, admin, map[string]any{f: nil}); st != 400 || code(m) != "read_only_field" {
			t.Errorf("patch %s: %d %v", f, st, m)
		}
	}
	if st, m := e.call("PATCH", path, admin, map[string]any{"status": "invited"}); st != 422 {
		t.Errorf("status invited: %d %v", st, m)
	}

	// Password: absent or empty keeps it; a new one ends sessions.
	_, cyTok := e.loginAs("metro", "cyl@example.org", pw)
	if cyTok == "" {
		t.Fatal("cy cannot sign in")
	}
	if st, _ := e.call("PATCH", path, admin, map[string]any{"password": "", "name": "Cy"}); st != 200 {
		t.Fatalf("empty password patch: %d", st)
	}
	if st, _ := e.call("GET", "/api/v1/me", cyTok, nil); st != 200 {
		t.Errorf("an empty password ended the session: %d", st)
	}
	if st, _ := e.loginAs("metro", "cyl@example.org", pw); st != 200 {
		t.Errorf("an empty password changed the password: %d", st)
	}
	if st, m := e.call("PATCH", path, admin, map[string]any{"password": "a-new-password-for-cy"}); st != 200 {
		t.Fatalf("set password: %d %v", st, m)
	}
	if st, _ := e.call("GET", "/api/v1/me", cyTok, nil); st != 401 {
		t.Errorf("the old session survived a password set: %d", st)
	}
	if st, _ := e.loginAs("metro", "cyl@example.org", pw); st != 401 {
		t.Errorf("the old password still works: %d", st)
	}
	if st, _ := e.loginAs("metro", "cyl@example.org", "a-new-password-for-cy"); st != 200 {
		t.Errorf("the new password does not work: %d", st)
	}

	// Delete: sessions end, the email is free at once.
	_, cyTok = e.loginAs("metro", "cyl@example.org", "a-new-password-for-cy")
	if st, _ := e.call("DELETE", path, admin, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := e.call("GET", "/api/v1/me", cyTok, nil); st != 401 {
		t.Errorf("a deleted user's session works: %d", st)
	}
	if st, m := e.call("GET", path, admin, nil); st != 404 || code(m) != "not_found" {
		t.Errorf("get deleted: %d %v", st, m)
	}
	e.createUser(admin, map[string]any{"email": "cyl@example.org", "name": "Cy Again", "kind": "staff", "password": pw})

	// Non-integer and unknown IDs are 404.
	for _, p := range []string{"/api/v1/users/abc", "/api/v1/users/-1", "/api/v1/users/99999999", "/api/v1/users/1e3"} {
		if st, m := e.call("GET", p, admin, nil); st != 404 || code(m) != "not_found" {
			t.Errorf("GET %s: %d %v", p, st, m)
		}
	}
}

func TestUsers_disableAndSSO(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	id := e.createUser(admin, map[string]any{"email": "dee@example.org", "name": "Dee", "kind": "staff", "password": pw})
	path := fmt.Sprintf("/api/v1/users/%d", id)
	_, tok := e.loginAs("metro", "dee@example.org", pw)
	if st, m := e.call("PATCH", path, admin, map[string]any{"status": "disabled"}); st != 200 || m["status"] != "disabled" {
		t.Fatalf("disable: %d %v", st, m)
	}
	if st, _ := e.call("GET", "/api/v1/me", tok, nil); st != 401 {
		t.Errorf("a disabled user's session works: %d", st)
	}
	st, m := e.call("POST", "/api/v1/auth/login", "", map[string]string{"org": "metro", "email": "dee@example.org", "password": pw})
	if st != 401 || code(m) != "invalid_credentials" {
		t.Errorf("disabled sign-in: %d %v", st, m)
	}
	if st, m := e.call("PATCH", path, admin, map[string]any{"status": "active"}); st != 200 || m["status"] != "active" {
		t.Fatalf("enable: %d %v", st, m)
	}
	if st, _ := e.loginAs("metro", "dee@example.org", pw); st != 200 {
		t.Errorf("re-enabled sign-in: %d", st)
	}
	// SSO: no local password, and setting one is refused.
	if st, m := e.call("PATCH", path, admin, map[string]any{"auth_source": "sso"}); st != 200 || m["auth_source"] != "sso" {
		t.Fatalf("to sso: %d %v", st, m)
	}
	if st, _ := e.loginAs("metro", "dee@example.org", pw); st != 401 {
		t.Errorf("sso user signed in with a local password: %d", st)
	}
	if st, m := e.call("PATCH", path, admin, map[string]any{"password": "another-long-password"}); st != 409 || code(m) != "sso_managed" {
		t.Errorf("password for sso user: %d %v", st, m)
	}
}

func TestUsers_permissions(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	// Roles: a help desk that may read and update staff, and a read-only one.
	for _, r := range []map[string]any{
		{"name": "Help Desk", "permissions": []string{"users.read", "users.update"}},
		{"name": "Viewer", "permissions": []string{"users.read"}},
	} {
		if st, m := e.call("POST", "/api/v1/roles", admin, r); st != 201 {
			t.Fatalf("create role: %d %v", st, m)
		}
	}
	staff := e.createUser(admin, map[string]any{"email": "s@example.org", "name": "Staff Person", "kind": "staff", "roles": []string{"User"}, "password": pw})
	resident := e.createUser(admin, map[string]any{"email": "r@example.org", "name": "Resident", "kind": "resident", "password": pw})
	e.createUser(admin, map[string]any{"email": "cm@example.org", "name": "Community Mgr", "kind": "staff", "roles": []string{"Community Manager"}, "password": pw})
	e.createUser(admin, map[string]any{"email": "hd@example.org", "name": "Help Desk", "kind": "staff", "roles": []string{"Help Desk"}, "password": pw})
	e.createUser(admin, map[string]any{"email": "v@example.org", "name": "Viewer", "kind": "staff", "roles": []string{"Viewer"}, "password": pw})
	_, cm := e.loginAs("metro", "cm@example.org", pw)
	_, hd := e.loginAs("metro", "hd@example.org", pw)
	_, viewer := e.loginAs("metro", "v@example.org", pw)

	var adminID int
	_, me := e.call("GET", "/api/v1/me", admin, nil)
	adminID = int(me["id"].(float64))
	sp, rp, ap := fmt.Sprintf("/api/v1/users/%d", staff), fmt.Sprintf("/api/v1/users/%d", resident), fmt.Sprintf("/api/v1/users/%d", adminID)

	for _, tc := range []struct {
		who, token, method, path string
		body                     any
		status                   int
	}{
		// A Community Manager cannot see staff at all: 404 for every verb.
		{"cm", cm, "GET", sp, nil, 404},
		{"cm", cm, "PATCH", sp, map[string]any{"name": "X"}, 404},
		{"cm", cm, "DELETE", sp, nil, 404},
		{"cm", cm, "GET", rp, nil, 200},
		{"cm", cm, "PATCH", rp, map[string]any{"name": "Resident Two"}, 200},
		{"cm", cm, "POST", "/api/v1/users", map[string]any{"email": "n@example.org", "name": "N", "kind": "staff"}, 403},
		// A viewer sees staff but may not change them; residents are invisible.
		{"viewer", viewer, "GET", sp, nil, 200},
		{"viewer", viewer, "PATCH", sp, map[string]any{"name": "X"}, 403},
		{"viewer", viewer, "DELETE", sp, nil, 403},
		{"viewer", viewer, "GET", rp, nil, 404},
		// A help desk may update staff, but not take over an administrator.
		{"hd", hd, "PATCH", sp, map[string]any{"name": "Staff Renamed"}, 200},
		{"hd", hd, "PATCH", ap, map[string]any{"password": "takeover-password-1"}, 403},
		{"hd", hd, "PATCH", ap, map[string]any{"email": "evil@example.org"}, 403},
		{"hd", hd, "PATCH", sp, map[string]any{"roles": []string{"Administrator"}}, 403},
		{"hd", hd, "PATCH", sp, map[string]any{"roles": []string{"Help Desk"}}, 200},
		{"hd", hd, "POST", "/api/v1/roles", map[string]any{"name": "Mine", "permissions": []string{"users.read"}}, 403},
		{"hd", hd, "DELETE", sp, nil, 403},
	} {
		st, m := e.call(tc.method, tc.path, tc.token, tc.body)
		if st != tc.status {
			t.Errorf("%s %s %s: %d %v, want %d", tc.who, tc.method, tc.path, st, m, tc.status)
		}
		if st == 403 && code(m) != "forbidden" || st == 404 && code(m) != "not_found" {
			t.Errorf("%s %s %s: code %q", tc.who, tc.method, tc.path, code(m))
		}
	}
	// The user list shows only the kinds one may read.
	_, m := e.call("GET", "/api/v1/users?limit=200", cm, nil)
	for _, u := range m["users"].([]any) {
		if k := u.(map[string]any)["kind"]; k == "staff" {
			t.Errorf("a Community Manager listed a staff user: %v", u)
		}
	}
	if _, m := e.call("GET", "/api/v1/users?kind=staff", cm, nil); len(m["users"].([]any)) != 0 {
		t.Errorf("kind=staff for a Community Manager: %v", m)
	}
	// Nobody grants what they lack: a role manager without org.manage.
	e.call("POST", "/api/v1/roles", admin, map[string]any{"name": "Role Admin", "permissions": []string{"roles.manage", "users.read", "users.update"}})
	e.createUser(admin, map[string]any{"email": "ra@example.org", "name": "Role Admin", "kind": "staff", "roles": []string{"Role Admin"}, "password": pw})
	_, ra := e.loginAs("metro", "ra@example.org", pw)
	if st, m := e.call("POST", "/api/v1/roles", ra, map[string]any{"name": "Boss", "permissions": []string{"org.manage"}}); st != 403 {
		t.Errorf("role beyond own permissions: %d %v", st, m)
	}
	if st, m := e.call("PATCH", "/api/v1/roles/Viewer", ra, map[string]any{"permissions": []string{"users.read", "audit.read"}}); st != 403 {
		t.Errorf("widening a role beyond own permissions: %d %v", st, m)
	}
	if st, m := e.call("PATCH", "/api/v1/roles/Viewer", ra, map[string]any{"permissions": []string{"users.read", "users.update"}}); st != 200 {
		t.Errorf("changing a role within own permissions: %d %v", st, m)
	}
}

func TestUsers_crossOrg(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	id := e.createUser(admin, map[string]any{"email": "x@example.org", "name": "X", "kind": "staff", "password": pw})
	_, other := e.loginAs("other", "bob@example.org", adminPassword)
	if other == "" {
		t.Fatal("no session in the other organization")
	}
	p := fmt.Sprintf("/api/v1/users/%d", id)
	missing := "/api/v1/users/99999999"
	for _, tc := range []struct {
		method string
		body   any
	}{{"GET", nil}, {"PATCH", map[string]any{"name": "Y"}}, {"DELETE", nil}} {
		st, m := e.call(tc.method, p, other, tc.body)
		st2, m2 := e.call(tc.method, missing, other, tc.body)
		if st != 404 || st2 != 404 || fmt.Sprint(m) != fmt.Sprint(m2) {
			t.Errorf("%s another org's user: %d %v; a missing one: %d %v", tc.method, st, m, st2, m2)
		}
	}
	if _, m := e.call("GET", "/api/v1/users?q=x%40example.org", other, nil); len(m["users"].([]any)) != 0 {
		t.Errorf("another organization's search found the user: %v", m)
	}
	if st, m := e.call("GET", p, admin, nil); st != 200 || m["name"] != "X" {
		t.Errorf("the user changed: %d %v", st, m)
	}
}

func TestUsers_lastAdministrator(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	_, me := e.call("GET", "/api/v1/me", admin, nil)
	p := fmt.Sprintf("/api/v1/users/%d", int(me["id"].(float64)))
	for _, body := range []map[string]any{{"roles": []string{"User"}}, {"status": "disabled"}} {
		if st, m := e.call("PATCH", p, admin, body); st != 409 || code(m) != "last_administrator" {
			t.Errorf("%v of the last admin: %d %v", body, st, m)
		}
	}
	if st, m := e.call("DELETE", p, admin, nil); st != 409 || code(m) != "last_administrator" {
		t.Errorf("delete the last admin: %d %v", st, m)
	}
	second := e.createUser(admin, map[string]any{"email": "a2@example.org", "name": "Admin Two", "kind": "staff",
		"roles": []string{"Administrator"}, "password": pw})
	if st, m := e.call("PATCH", p, admin, map[string]any{"roles": []string{"User", "Administrator"}}); st != 200 {
		t.Errorf("adding a role: %d %v", st, m)
	}
	if st, m := e.call("DELETE", fmt.Sprintf("/api/v1/users/%d", second), admin, nil); st != 204 {
		t.Errorf("delete one of two admins: %d %v", st, m)
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	st, m := e.call("GET", "/api/v1/roles", admin, nil)
	if st != 200 || len(m["roles"].([]any)) != 3 {
		t.Fatalf("default roles: %d %v", st, m)
	}
	if st, m := e.call("POST", "/api/v1/roles", admin, map[string]any{"name": "Dispatch", "permissions": []string{"users.read", "nope.perm"}}); st != 422 {
		t.Errorf("unknown permission: %d %v", st, m)
	}
	if st, _ := e.call("POST", "/api/v1/roles", admin, map[string]any{"name": "Dispatch", "permissions": []string{"users.read"}}); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if st, m := e.call("POST", "/api/v1/roles", admin, map[string]any{"name": "Dispatch", "permissions": []string{}}); st != 409 {
		t.Errorf("duplicate: %d %v", st, m)
	}
	if st, m := e.call("PATCH", "/api/v1/roles/Dispatch", admin, map[string]any{"name": "Dispatchers", "permissions": []string{"users.read", "users.update"}}); st != 200 || m["name"] != "Dispatchers" {
		t.Errorf("rename: %d %v", st, m)
	}
	id := e.createUser(admin, map[string]any{"email": "d@example.org", "name": "D", "kind": "staff", "roles": []string{"Dispatchers"}, "password": pw})
	if st, m := e.call("DELETE", "/api/v1/roles/Dispatchers", admin, nil); st != 409 || code(m) != "role_in_use" {
		t.Errorf("delete in use: %d %v", st, m)
	}
	e.call("PATCH", fmt.Sprintf("/api/v1/users/%d", id), admin, map[string]any{"roles": []string{}})
	if st, _ := e.call("DELETE", "/api/v1/roles/Dispatchers", admin, nil); st != 204 {
		t.Errorf("delete: %d", st)
	}
	for _, r := range []string{"Administrator", "User", "Community%20Manager"} {
		if st, m := e.call("DELETE", "/api/v1/roles/"+r, admin, nil); st != 409 {
			t.Errorf("delete default %s: %d %v", r, st, m)
		}
	}
	if st, _ := e.call("PATCH", "/api/v1/roles/Nope", admin, map[string]any{"permissions": []string{}}); st != 404 {
		t.Errorf("patch missing role: %d", st)
	}
	_, user := e.loginAs("metro", "d@example.org", pw)
	if st, _ := e.call("GET", "/api/v1/roles", user, nil); st != 403 { // holds no permission at all
		t.Errorf("roles for a user without permissions: %d", st)
	}
}

func TestUsers_searchAndPaging(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	names := []string{"Émile Zola", "Ann Lee", "Anna Bell", "Bob Stone", "100% Real", "under_score", "O'Brien"}
	for i, n := range names {
		e.createUser(admin, map[string]any{"email": fmt.Sprintf("u%d@example.org", i), "name": n, "kind": "staff", "password": pw})
	}
	list := func(q string) []string {
		st, m := e.call("GET", "/api/v1/users?"+q, admin, nil)
		if st != 200 {
			t.Fatalf("list %s: %d %v", q, st, m)
		}
		var out []string
		for _, u := range m["users"].([]any) {
			out = append(out, u.(map[string]any)["name"].(string))
		}
		return out
	}
	for _, tc := range []struct{ q, want string }{
		{"q=emile", "Émile Zola"},
		{"q=ANN", "Administrator,Ann Lee,Anna Bell"}, // the administrator is ann@example.org
		{"q=u1%40example", "Ann Lee"},
		{"q=" + url.QueryEscape("100%"), "100% Real"},
		{"q=" + url.QueryEscape("%"), "100% Real"},
		{"q=" + url.QueryEscape("_"), "under_score"},
		{"q=" + url.QueryEscape("o'b"), "O'Brien"},
		{"q=" + url.QueryEscape("'; DROP TABLE users; --"), ""},
		{"name=bell", "Anna Bell"},
		{"email=u3%40", "Bob Stone"},
		{"status=disabled", ""},
	} {
		if got := strings.Join(list(tc.q), ","); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.q, got, tc.want)
		}
	}
	_, m := e.call("GET", "/api/v1/users?q=bob", admin, nil)
	bob := int(m["users"].([]any)[0].(map[string]any)["id"].(float64))
	if got := list(fmt.Sprintf("q=%d", bob)); len(got) == 0 || got[0] != "Bob Stone" {
		t.Errorf("q=ID: %v", got)
	}
	if st, m := e.call("GET", "/api/v1/users?cursor=garbage!!", admin, nil); st != 400 || code(m) != "invalid_cursor" {
		t.Errorf("garbage cursor: %d %v", st, m)
	}
	for _, q := range []string{"limit=0", "limit=1000", "limit=x", "status=zombie", "kind=alien", "id=abc"} {
		if st, _ := e.call("GET", "/api/v1/users?"+q, admin, nil); st != 422 {
			t.Errorf("%s: %d, want 422", q, st)
		}
	}

	// Paging: ~100 users, rows inserted between pages; no duplicates, no gaps.
	for i := range 95 {
		e.createUser(admin, map[string]any{"email": fmt.Sprintf("p%03d@example.org", i), "name": fmt.Sprintf("Pager %03d", i), "kind": "staff"})
	}
	before := map[string]bool{}
	for _, n := range list("name=pager&limit=200") {
		before[n] = true
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	lastName, lastID := "", 0
	for {
		st, m := e.call("GET", "/api/v1/users?name=pager&limit=10&cursor="+url.QueryEscape(cursor), admin, nil)
		if st != 200 {
			t.Fatalf("page: %d %v", st, m)
		}
		for _, u := range m["users"].([]any) {
			n := u.(map[string]any)["name"].(string)
			id := int(u.(map[string]any)["id"].(float64))
			key := strings.ToLower(n)
			if seen[strconv.Itoa(id)] || key < lastName || key == lastName && id <= lastID {
				t.Errorf("page %d: %q (%d) after %q (%d): duplicate or out of order", pages, n, id, lastName, lastID)
			}
			seen[strconv.Itoa(id)], seen[n] = true, true
			lastName, lastID = key, id
		}
		// Rows that sort before and after the cursor arrive between pages.
		e.createUser(admin, map[string]any{"email": fmt.Sprintf("pa%d@example.org", pages), "name": fmt.Sprintf("Pager %03d", pages), "kind": "staff"})
		e.createUser(admin, map[string]any{"email": fmt.Sprintf("pz%d@example.org", pages), "name": fmt.Sprintf("Pager zz%d", pages), "kind": "staff"})
		pages++
		next, _ := m["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
		if pages > 50 {
			t.Fatal("paging does not end")
		}
	}
	for n := range before {
		if !seen[n] {
			t.Errorf("%q existed before paging and was never listed", n)
		}
	}
}
