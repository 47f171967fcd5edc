package web_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTemporaryPassword(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	id := e.createUser(admin, map[string]any{"email": "tp@example.org", "name": "Tee Pee", "kind": "staff", "password": pw})
	p := fmt.Sprintf("/api/v1/users/%d", id)
	_, oldTok := e.loginAs("metro", "tp@example.org", pw)

	st, m := e.call("POST", p+"/temporary-password", admin, map[string]any{"reason": "ticket 4711"})
	if st != 200 {
		t.Fatalf("issue: %d %v", st, m)
	}
	temp, _ := m["temporary_password"].(string)
	if len(temp) < 12 || m["user"].(map[string]any)["status"] != "force_password_reset" {
		t.Fatalf("issue: %v", m)
	}
	if _, err := time.Parse(time.RFC3339, m["expires_at"].(string)); err != nil {
		t.Errorf("expires_at: %v", err)
	}
	// Sessions ended; the old password retired; reading the user never shows it.
	if st, _ := e.call("GET", "/api/v1/me", oldTok, nil); st != 401 {
		t.Errorf("session after a temporary password: %d", st)
	}
	if st, _ := e.loginAs("metro", "tp@example.org", pw); st != 401 {
		t.Errorf("old password after a temporary password: %d", st)
	}
	_, got, _ := e.do("GET", p, admin, "")
	if strings.Contains(string(got), temp) {
		t.Error("GET user shows the temporary password")
	}
	// A second issue kills the first.
	_, m2 := e.call("POST", p+"/temporary-password", admin, nil)
	temp2 := m2["temporary_password"].(string)
	if st, m := e.call("POST", "/api/v1/auth/login", "", map[string]string{"org": "metro", "email": "tp@example.org", "password": temp}); st != 401 || code(m) != "invalid_credentials" {
		t.Errorf("first temporary password after a second: %d %v", st, m)
	}
	st, m = e.call("POST", "/api/v1/auth/login", "", map[string]string{"org": "metro", "email": "tp@example.org", "password": temp2})
	if st != 200 || m["challenge"] != "new_password_required" {
		t.Fatalf("second temporary password: %d %v", st, m)
	}
	ct := m["challenge_token"].(string)
	// The challenge token calls nothing else.
	for _, path := range []string{"/api/v1/me", "/api/v1/users", "/api/v1/me/sessions"} {
		if st, _ := e.call("GET", path, ct, nil); st != 401 {
			t.Errorf("GET %s with the challenge token: %d", path, st)
		}
	}
	st, m = e.call("POST", "/api/v1/auth/new-password", "", map[string]string{"challenge_token": ct, "new_password": temp2})
	if st != 422 {
		t.Errorf("the temporary password as the new one: %d %v", st, m)
	}
	st, m = e.call("POST", "/api/v1/auth/new-password", "", map[string]string{"challenge_token": ct, "new_password": "my-own-new-password"})
	if st != 200 || m["user"].(map[string]any)["status"] != "active" {
		t.Fatalf("new password: %d %v", st, m)
	}
	if st, _ := e.call("POST", "/api/v1/auth/login", "", map[string]string{"org": "metro", "email": "tp@example.org", "password": temp2}); st != 401 {
		t.Errorf("temporary password works twice: %d", st)
	}
	// Audit: issued with the reason, and no secret anywhere in the log.
	st, m = e.call("GET", fmt.Sprintf("/api/v1/audit?target_id=%d&action=user.temporary_password_issued", id), admin, nil)
	evs := m["events"].([]any)
	if st != 200 || len(evs) != 2 || evs[1].(map[string]any)["details"].(map[string]any)["reason"] != "ticket 4711" {
		t.Errorf("audit: %d %v", st, m)
	}
	_, all, _ := e.do("GET", "/api/v1/audit?limit=500", admin, "")
	for _, secret := range []string{temp, temp2, "my-own-new-password", ct} {
		if strings.Contains(string(all), secret) {
			t.Errorf("the audit log holds a secret")
		}
	}
}

func TestTemporaryPassword_refusals(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	e.call("POST", "/api/v1/roles", admin, map[string]any{"name": "Help Desk", "permissions": []string{"users.read", "users.update"}})
	e.call("POST", "/api/v1/roles", admin, map[string]any{"name": "Reader", "permissions": []string{"users.read"}})
	e.createUser(admin, map[string]any{"email": "hd@example.org", "name": "HD", "kind": "staff", "roles": []string{"Help Desk"}, "password": pw})
	e.createUser(admin, map[string]any{"email": "rd@example.org", "name": "RD", "kind": "staff", "roles": []string{"Reader"}, "password": pw})
	staff := e.createUser(admin, map[string]any{"email": "s@example.org", "name": "S", "kind": "staff", "password": pw})
	sso := e.createUser(admin, map[string]any{"email": "sso@example.org", "name": "SSO", "kind": "staff", "auth_source": "sso"})
	off := e.createUser(admin, map[string]any{"email": "off@example.org", "name": "Off", "kind": "staff", "password": pw})
	e.call("PATCH", fmt.Sprintf("/api/v1/users/%d", off), admin, map[string]any{"status": "disabled"})
	_, me := e.call("GET", "/api/v1/me", admin, nil)
	adminID := int(me["id"].(float64))
	_, hd := e.loginAs("metro", "hd@example.org", pw)
	_, rd := e.loginAs("metro", "rd@example.org", pw)
	_, other := e.loginAs("other", "bob@example.org", adminPassword)
	e.call("PATCH", "/api/v1/org", admin, map[string]any{"sso": map[string]string{"provider_name": "Metro Azure AD", "login_url": "https://sso.metro.example"}})

	for _, tc := range []struct {
		name, token string
		id, status  int
		code        string
	}{
		{"help desk on staff", hd, staff, 200, ""},
		{"help desk on an administrator", hd, adminID, 403, "forbidden"},
		{"reader", rd, staff, 403, "forbidden"},
		{"other organization", other, staff, 404, "not_found"},
		{"deleted or missing", admin, 99999999, 404, "not_found"},
		{"sso user", admin, sso, 409, "sso_managed"},
		{"disabled user", admin, off, 409, "user_disabled"},
	} {
		for _, action := range []string{"temporary-password", "unlock"} {
			want := tc.status
			if action == "unlock" && (tc.code == "sso_managed" || tc.code == "user_disabled") {
				want = 200
			}
			st, m := e.call("POST", fmt.Sprintf("/api/v1/users/%d/%s", tc.id, action), tc.token, nil)
			if st != want || want != 200 && code(m) != tc.code {
				t.Errorf("%s %s: %d %v, want %d %s", tc.name, action, st, m, want, tc.code)
			}
			if tc.code == "sso_managed" && action == "temporary-password" && !strings.Contains(fmt.Sprint(m), "Metro Azure AD") {
				t.Errorf("sso_managed does not name the provider: %v", m)
			}
		}
	}
	// Ending sessions follows the same rules.
	if st, _ := e.call("DELETE", fmt.Sprintf("/api/v1/users/%d/sessions", adminID), hd, nil); st != 403 {
		t.Errorf("help desk ends an administrator's sessions: %d", st)
	}
}

func TestUnlockAndSessions(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	id := e.createUser(admin, map[string]any{"email": "lo@example.org", "name": "Lo", "kind": "staff", "password": pw})
	p := fmt.Sprintf("/api/v1/users/%d", id)
	_, tok1 := e.loginAs("metro", "lo@example.org", pw)
	_, tok2 := e.loginAs("metro", "lo@example.org", pw)
	for i := range 5 {
		e.loginAs("metro", "lo@example.org", fmt.Sprintf("wrong-password-%d", i))
	}
	_, u := e.call("GET", p, admin, nil)
	if u["locked_until"] == nil || u["failed_logins"].(float64) != 5 {
		t.Fatalf("after 5 failures: %v", u)
	}
	if st, _ := e.loginAs("metro", "lo@example.org", pw); st != 401 {
		t.Errorf("locked user signed in: %d", st)
	}
	st, u := e.call("POST", p+"/unlock", admin, map[string]any{"reason": "called the desk"})
	if st != 200 || u["locked_until"] != nil || u["failed_logins"].(float64) != 0 {
		t.Fatalf("unlock: %d %v", st, u)
	}
	if st, _ := e.loginAs("metro", "lo@example.org", pw); st != 200 {
		t.Errorf("after unlock: %d", st)
	}
	st, m := e.call("GET", p+"/sessions", admin, nil)
	if st != 200 || len(m["sessions"].([]any)) != 3 {
		t.Fatalf("sessions: %d %v", st, m)
	}
	if st, _ := e.call("DELETE", p+"/sessions", admin, nil); st != 204 {
		t.Fatalf("end sessions: %d", st)
	}
	for _, tok := range []string{tok1, tok2} {
		if st, _ := e.call("GET", "/api/v1/me", tok, nil); st != 401 {
			t.Errorf("a session survived: %d", st)
		}
	}
	if _, m := e.call("GET", p+"/sessions", admin, nil); len(m["sessions"].([]any)) != 0 {
		t.Errorf("sessions after ending them: %v", m)
	}
	st, m = e.call("GET", fmt.Sprintf("/api/v1/audit?target_id=%d", id), admin, nil)
	actions := []string{}
	for _, ev := range m["events"].([]any) {
		actions = append(actions, ev.(map[string]any)["action"].(string))
	}
	got := strings.Join(actions, ",")
	for _, want := range []string{"user.sessions_revoked", "user.unlocked", "user.locked", "user.login_failed", "user.login", "user.created"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit lacks %s: %s", want, got)
		}
	}
}

func TestAuditAPI(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	for i := range 12 {
		e.createUser(admin, map[string]any{"email": fmt.Sprintf("a%d@example.org", i), "name": "A", "kind": "staff"})
	}
	seen := map[float64]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		st, m := e.call("GET", "/api/v1/audit?action=user.created&limit=5&cursor="+url.QueryEscape(cursor), admin, nil)
		if st != 200 {
			t.Fatalf("audit: %d %v", st, m)
		}
		for _, ev := range m["events"].([]any) {
			ev := ev.(map[string]any)
			if seen[ev["id"].(float64)] || ev["action"] != "user.created" {
				t.Errorf("event %v twice or of the wrong action", ev)
			}
			seen[ev["id"].(float64)] = true
			for _, f := range []string{"id", "at", "action", "actor_id", "target_id", "ip", "user_agent", "outcome", "details"} {
				if _, ok := ev[f]; !ok {
					t.Errorf("event lacks %s: %v", f, ev)
				}
			}
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 13 { // 12 here, and the administrator's own
		t.Errorf("%d user.created events, want 13", len(seen))
	}
	if st, m := e.call("GET", "/api/v1/audit?since=yesterday", admin, nil); st != 422 {
		t.Errorf("bad since: %d %v", st, m)
	}
	if st, m := e.call("GET", "/api/v1/audit?cursor=zzz", admin, nil); st != 400 || code(m) != "invalid_cursor" {
		t.Errorf("bad cursor: %d %v", st, m)
	}
	e.createUser(admin, map[string]any{"email": "plain@example.org", "name": "Plain", "kind": "staff", "password": pw})
	_, plain := e.loginAs("metro", "plain@example.org", pw)
	if st, _ := e.call("GET", "/api/v1/audit", plain, nil); st != 403 {
		t.Errorf("audit without audit.read: %d", st)
	}
	for _, m := range []string{"PATCH", "DELETE", "PUT", "POST"} {
		if st, _ := e.call(m, "/api/v1/audit", admin, nil); st != 405 {
			t.Errorf("%s /api/v1/audit: %d, want 405 (append-only)", m, st)
		}
	}
}

func TestOrgSettings(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	st, m := e.call("GET", "/api/v1/org", admin, nil)
	pp, _ := m["password_policy"].(map[string]any)
	if st != 200 || pp["min_length"].(float64) != 12 || m["temporary_password_hours"].(float64) != 72 || m["self_service_reset"] != true {
		t.Fatalf("get org: %d %v", st, m)
	}
	st, m = e.call("PATCH", "/api/v1/org", admin, map[string]any{"password_policy": map[string]any{"min_length": 15}, "lockout": map[string]any{"max_failures": 3}})
	if st != 200 || m["password_policy"].(map[string]any)["min_length"].(float64) != 15 || m["password_policy"].(map[string]any)["max_length"].(float64) != 256 ||
		m["lockout"].(map[string]any)["max_failures"].(float64) != 3 || m["lockout"].(map[string]any)["lock_minutes"].(float64) != 15 {
		t.Fatalf("patch: %d %v", st, m)
	}
	// The new policy applies at once.
	if st, m := e.call("POST", "/api/v1/users", admin, map[string]any{"email": "n@example.org", "name": "N", "password": "only-14-chars!"}); st != 422 {
		t.Errorf("a 14-character password under min_length 15: %d %v", st, m)
	}
	st, m = e.call("PATCH", "/api/v1/org", admin, map[string]any{"password_policy": map[string]any{"min_length": 70, "max_length": 60, "history": -1},
		"lockout": map[string]any{"lock_minutes": 0}, "temporary_password_hours": 721})
	if st != 422 {
		t.Fatalf("bad patch: %d %v", st, m)
	}
	got := strings.Join(fields(m), ",")
	for _, f := range []string{"password_policy.min_length", "password_policy.max_length", "password_policy.history", "lockout.lock_minutes", "temporary_password_hours"} {
		if !strings.Contains(got, f) {
			t.Errorf("bad patch details %s lack %s", got, f)
		}
	}
	if _, m := e.call("GET", "/api/v1/org", admin, nil); m["password_policy"].(map[string]any)["min_length"].(float64) != 15 {
		t.Errorf("a refused patch changed something: %v", m)
	}
	if st, m := e.call("PATCH", "/api/v1/org", admin, map[string]any{"password_policy": map[string]any{"min_lenght": 9}}); st != 400 || code(m) != "unknown_field" {
		t.Errorf("typo: %d %v", st, m)
	}
	st, m = e.call("GET", "/api/v1/audit?action=org.updated", admin, nil)
	if st != 200 || len(m["events"].([]any)) != 1 {
		t.Fatalf("org.updated events: %v", m)
	}
	d := m["events"].([]any)[0].(map[string]any)["details"].(map[string]any)
	if d["before"].(map[string]any)["password_policy"].(map[string]any)["min_length"].(float64) != 12 ||
		d["after"].(map[string]any)["password_policy"].(map[string]any)["min_length"].(float64) != 15 {
		t.Errorf("org.updated details: %v", d)
	}
	e.createUser(admin, map[string]any{"email": "plain@example.org", "name": "Plain", "kind": "staff", "password": "a-plain-long-password"})
	_, plain := e.loginAs("metro", "plain@example.org", "a-plain-long-password")
	if st, _ := e.call("PATCH", "/api/v1/org", plain, map[string]any{"self_service_reset": false}); st != 403 {
		t.Errorf("patch without org.manage: %d", st)
	}
}

// TestNoSecretInLogs captures the server's log while secrets go by.
func TestNoSecretInLogs(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, envOpts{log: log})
	admin := e.token()
	id := e.createUser(admin, map[string]any{"email": "sec@example.org", "name": "Sec", "kind": "staff", "password": pw})
	_, m := e.call("POST", fmt.Sprintf("/api/v1/users/%d/temporary-password", id), admin, nil)
	temp := m["temporary_password"].(string)
	_, m = e.call("POST", "/api/v1/auth/login", "", map[string]string{"org": "metro", "email": "sec@example.org", "password": temp})
	ct := m["challenge_token"].(string)
	e.call("POST", "/api/v1/auth/new-password", "", map[string]string{"challenge_token": ct, "new_password": "short"})
	e.call("POST", "/api/v1/auth/login", "", map[string]string{"org": "metro", "email": "sec@example.org", "password": "wrong-but-secret-1"})
	e.call("GET", "/api/v1/me?token="+admin, "", nil)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, `"msg":"request"`) {
		t.Fatalf("no request logged: %.300s", out)
	}
	for _, s := range []string{temp, ct, admin, pw, "wrong-but-secret-1", adminPassword} {
		if strings.Contains(out, s) {
			t.Errorf("the log holds a secret (%.6s…)", s)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
