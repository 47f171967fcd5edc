package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

type pc struct {
	t *testing.T
	e *env
	c *http.Client
}

func signInPage(t *testing.T, e *env, email, pw string) *pc {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	csrf := getCSRF(t, c, e.ts.URL+"/o/metro/login")
	res, err := c.PostForm(e.ts.URL+"/o/metro/login", url.Values{"email": {email}, "password": {pw}, "csrf_token": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/o/metro/" {
		t.Fatalf("sign-in as %s ended at %s", email, res.Request.URL.Path)
	}
	return &pc{t, e, c}
}

func (p *pc) get(path string) (int, string) {
	res, err := p.c.Get(p.e.ts.URL + path)
	if err != nil {
		p.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(b)
}

func (p *pc) post(path string, v url.Values) (int, string, http.Header) {
	u, _ := url.Parse(p.e.ts.URL)
	for _, c := range p.c.Jar.Cookies(u) {
		if c.Name == "latchkey_csrf" {
			v.Set("csrf_token", c.Value)
		}
	}
	res, err := p.c.PostForm(p.e.ts.URL+path, v)
	if err != nil {
		p.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(b), res.Header
}

var nonceRE = regexp.MustCompile(`name="nonce" value="([^"]+)"`)
var codeRE = regexp.MustCompile(`<code class="secret" id="temporary-password">([^<]+)</code>`)

func TestPagesRecovery(t *testing.T) {
	e := newEnv(t, envOpts{})
	tok := e.token()
	admin := signInPage(t, e, "ann@example.org", adminPassword)
	id := e.createUser(tok, map[string]any{"email": "cy@example.org", "name": "Cy Target", "kind": "staff", "roles": []string{"User"}, "password": pw})
	up := "/o/metro/admin/users/" + itoa(id)

	// Ask, confirm, replay.
	st, body, _ := admin.post(up+"/temporary-password", url.Values{})
	if st != 200 || !strings.Contains(body, "Set a temporary password for Cy Target?") {
		t.Fatalf("ask: %d %s", st, body)
	}
	nonce := nonceRE.FindStringSubmatch(body)[1]
	st, body, h := admin.post(up+"/temporary-password/confirm", url.Values{"nonce": {nonce}, "reason": {"T-1"}})
	m := codeRE.FindStringSubmatch(body)
	if st != 200 || m == nil || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("confirm: %d %v %s", st, h, body)
	}
	temp := m[1]
	st, body, _ = admin.post(up+"/temporary-password/confirm", url.Values{"nonce": {nonce}, "reason": {"T-1"}})
	if st != 409 || strings.Contains(body, "temporary-password\">") || !strings.Contains(body, "already used") {
		t.Errorf("replay: %d %s", st, body)
	}
	if st, mm := e.login("cy@example.org", temp); st != 200 || mm["challenge"] != "new_password_required" {
		t.Errorf("the first temp password after a replay: %d %v", st, mm)
	}
	// Reason too long: back on the confirmation, with the field error.
	st, body, _ = admin.post(up+"/temporary-password", url.Values{})
	nonce = nonceRE.FindStringSubmatch(body)[1]
	st, body, _ = admin.post(up+"/temporary-password/confirm", url.Values{"nonce": {nonce}, "reason": {strings.Repeat("x", 501)}})
	if st != 422 || !strings.Contains(body, "Must be at most 500 characters") || !strings.Contains(body, `name="nonce"`) {
		t.Errorf("long reason: %d %s", st, body)
	}

	// Expired.
	e.clock.Advance(73 * time.Hour)
	admin = signInPage(t, e, "ann@example.org", adminPassword)
	tok = e.token()
	_, body = admin.get(up)
	if !strings.Contains(body, "The temporary password expired at 2026-03-04 09:00 UTC; set a new one.") {
		t.Errorf("expired: %s", body)
	}
	if strings.Contains(body, temp) {
		t.Error("temp password on the user page")
	}

	// Unlock with failures.
	e.login("cy@example.org", "wrong-wrong-wrong-1")
	_, body = admin.get(up)
	if !strings.Contains(body, ">Unlock</button>") {
		t.Errorf("no Unlock: %s", body)
	}

	// Settings: bad values, warning.
	v := url.Values{"self_service_reset": {"1"}, "password_policy.min_length": {"5"}, "password_policy.max_length": {"abc"},
		"password_policy.require_classes": {"0"}, "password_policy.history": {"5"}, "lockout.max_failures": {"5"},
		"lockout.lock_minutes": {"15"}, "temporary_password_hours": {"72"}, "reset_link_minutes": {"60"}, "welcome_link_hours": {"72"}}
	st, body, _ = admin.post("/o/metro/admin/settings", v)
	if st != 422 || !strings.Contains(body, "Enter a whole number.") {
		t.Errorf("settings abc: %d %s", st, body)
	}
	v.Set("password_policy.max_length", "256")
	v.Set("lockout.lock_minutes", "0")
	st, body, _ = admin.post("/o/metro/admin/settings", v)
	if st != 422 || !strings.Contains(body, `id="s-min-error">Must be between 8 and 64.`) || !strings.Contains(body, `id="s-lock-error">Must be between 1 and 1440.`) {
		t.Errorf("settings bounds: %d %s", st, body)
	}
	v.Set("password_policy.min_length", "12")
	v.Set("lockout.lock_minutes", "15")
	v.Set("password_policy.require_classes", "2")
	v.Set("sso.provider_name", "Okta")
	v.Set("sso.login_url", "nope")
	st, body, _ = admin.post("/o/metro/admin/settings", v)
	if st != 422 || !strings.Contains(body, `id="s-sso-url-error"`) || !strings.Contains(body, "NIST SP 800-63B advises against composition rules") {
		t.Errorf("settings sso: %d %s", st, body)
	}
	v.Set("sso.login_url", "https://okta.example.org")
	st, body, _ = admin.post("/o/metro/admin/settings", v)
	if st != 200 || !strings.Contains(body, "Settings saved.") || !strings.Contains(body, "NIST SP 800-63B") {
		t.Errorf("settings save: %d %s", st, body)
	}

	// Audit filters.
	st, body = admin.get("/o/metro/admin/audit?actor_id=abc&since=2026-13-01")
	if st != 422 || !strings.Contains(body, "Enter a user ID") || !strings.Contains(body, "Enter a date") {
		t.Errorf("audit bad filters: %d %s", st, body)
	}
	st, body = admin.get("/o/metro/admin/audit?action=user.temporary_password_issued&since=2026-03-01&until=2026-03-01")
	if st != 200 || !strings.Contains(body, "T-1") {
		t.Errorf("audit since/until same day: %d %s", st, body)
	}
	st, body = admin.get("/o/metro/admin/audit?action=org.updated")
	if st != 200 || !strings.Contains(body, "before:") {
		t.Errorf("audit org.updated: %d %s", st, body)
	}
	if strings.Contains(body, temp) {
		t.Error("secret in audit")
	}

	// Help desk: takeover upward refused on the page; SSO sentence without provider.
	e.call("POST", "/api/v1/roles", tok, map[string]any{"name": "Help Desk", "permissions": []string{"users.read", "users.update"}})
	e.createUser(tok, map[string]any{"email": "hd@example.org", "name": "Hal Desk", "kind": "staff", "roles": []string{"Help Desk"}, "password": pw})
	sso := e.createUser(tok, map[string]any{"email": "sso@example.org", "name": "Sue Sso", "kind": "staff", "roles": []string{"User"}, "auth_source": "sso"})
	dis := e.createUser(tok, map[string]any{"email": "dis@example.org", "name": "Dee Disabled", "kind": "staff", "roles": []string{"User"}, "password": pw})
	e.call("PATCH", "/api/v1/users/"+itoa(dis), tok, map[string]any{"status": "disabled"})
	hd := signInPage(t, e, "hd@example.org", pw)
	if st, _ := hd.get("/o/metro/admin/users/1"); st != 200 {
		t.Errorf("help desk reads the admin's page: %d, want 200 (seeing is not acting)", st)
	}
	if st, _, _ := hd.post("/o/metro/admin/users/1/temporary-password/confirm", url.Values{}); st != 409 && st != 403 {
		t.Errorf("help desk confirm on admin: %d", st)
	}
	_, body = hd.get("/o/metro/admin/users/" + itoa(sso))
	if !strings.Contains(body, "Sue Sso signs in with single sign-on; a local password would change nothing.") || strings.Contains(body, "Set Temporary Password</button>") {
		t.Errorf("sso for help desk: %s", body)
	}
	_, body = admin.get("/o/metro/admin/users/" + itoa(sso))
	if !strings.Contains(body, "Sue Sso signs in with single sign-on (Okta at https://okta.example.org); a local password would change nothing.") {
		t.Errorf("sso for admin: %s", body)
	}
	st, body, _ = admin.post("/o/metro/admin/users/"+itoa(sso)+"/temporary-password", url.Values{})
	nonce = nonceRE.FindStringSubmatch(body)[1]
	st, body, _ = admin.post("/o/metro/admin/users/"+itoa(sso)+"/temporary-password/confirm", url.Values{"nonce": {nonce}})
	if st != 409 || !strings.Contains(body, "Okta") {
		t.Errorf("sso confirm: %d %s", st, body)
	}
	st, body, _ = admin.post("/o/metro/admin/users/"+itoa(dis)+"/temporary-password", url.Values{})
	nonce = nonceRE.FindStringSubmatch(body)[1]
	st, body, _ = admin.post("/o/metro/admin/users/"+itoa(dis)+"/temporary-password/confirm", url.Values{"nonce": {nonce}})
	if st != 409 || !strings.Contains(body, "disabled") {
		t.Errorf("disabled confirm: %d %s", st, body)
	}
	// Help desk: no audit, no settings.
	if st, _ := hd.get("/o/metro/admin/audit?actor_id=abc"); st != 403 {
		t.Errorf("help desk audit: %d", st)
	}
	if st, _ := hd.get("/o/metro/admin/settings"); st != 403 {
		t.Errorf("help desk settings: %d", st)
	}
	if st, _, _ := hd.post("/o/metro/admin/settings", url.Values{"lockout.max_failures": {"x"}}); st != 403 {
		t.Errorf("help desk settings post: %d", st)
	}
	_, body = hd.get("/o/metro/")
	if strings.Contains(body, "admin/audit") || strings.Contains(body, "admin/settings") {
		t.Error("help desk nav shows Audit/Settings")
	}

	// Add User → confirm → created.
	st, body, _ = admin.post("/o/metro/admin/users/new", url.Values{"email": {"new@example.org"}, "name": {"Nia New"}, "roles": {"User"}, "action": {"temporary"}})
	if st != 200 || !strings.Contains(body, `<input type="hidden" name="email" value="new@example.org">`) || strings.Contains(body, `name="password"`) || !strings.Contains(body, "<dd>User</dd>") {
		t.Errorf("add confirm: %d %s", st, body)
	}
	st, body, _ = admin.post("/o/metro/admin/users/new", url.Values{"email": {"new@example.org"}, "name": {"Nia New"}, "roles": {"User"}, "action": {"back"}})
	if st != 200 || !strings.Contains(body, `value="Nia New"`) || !strings.Contains(body, "<h1>Add User</h1>") {
		t.Errorf("add back: %d %s", st, body)
	}
	st, body, h = admin.post("/o/metro/admin/users/new", url.Values{"email": {"new@example.org"}, "name": {"Nia New"}, "roles": {"User"}, "action": {"temporary_confirm"}})
	if st != 200 || codeRE.FindStringSubmatch(body) == nil || h.Get("Cache-Control") != "no-store" {
		t.Errorf("add created: %d %s", st, body)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
