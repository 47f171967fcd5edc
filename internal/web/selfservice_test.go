package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// outbox reads the organization's queued emails, newest first, bodies included.
func (e *env) outbox(org string) []account.Email {
	e.t.Helper()
	var out []account.Email
	ctx := context.Background()
	err := e.store.View(ctx, func(tx account.Tx) error {
		o, err := tx.OrgBySlug(ctx, org)
		if err != nil {
			return err
		}
		out, err = tx.ListEmails(ctx, o.ID, account.EmailFilter{Limit: 500})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

var (
	linkRE     = regexp.MustCompile(`(\S+)/o/metro/reset-password\?token=(lkr_[A-Za-z0-9_-]{43})`)
	mailCodeRE = regexp.MustCompile(`\b(\d{8})\b`)
)

// lastLink returns the base, token and code of the newest reset or welcome email to addr.
func (e *env) lastLink(addr string) (base, token, code string) {
	e.t.Helper()
	for _, m := range e.outbox("metro") {
		if m.To != addr || m.Template != account.TemplateReset && m.Template != account.TemplateWelcome {
			continue
		}
		l := linkRE.FindStringSubmatch(m.TextBody)
		c := mailCodeRE.FindStringSubmatch(m.TextBody)
		if l == nil || c == nil {
			e.t.Fatalf("no link or code in %q", m.TextBody)
		}
		return l[1], l[2], c[1]
	}
	e.t.Fatalf("no reset email to %s", addr)
	return
}

func (e *env) forgot(email string) (int, []byte) {
	e.t.Helper()
	st, b, _ := e.do("POST", "/api/v1/auth/forgot-password", "", fmt.Sprintf(`{"org":"metro","email":%q}`, email))
	return st, b
}

func TestForgotPassword(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	e.createUser(admin, map[string]any{"email": "rae@example.org", "name": "Rae", "kind": "staff", "password": pw})
	_, session := e.loginAs("metro", "rae@example.org", pw)
	for i := range 5 {
		e.loginAs("metro", "rae@example.org", fmt.Sprintf("wrong-guess-%d", i))
	}

	// Known and unknown answer alike; only the known one queues mail.
	st1, b1 := e.forgot("Rae@Example.org")
	st2, b2 := e.forgot("nobody@example.org")
	if st1 != 202 || st2 != 202 || string(b1) != string(b2) {
		t.Fatalf("known %d %s, unknown %d %s", st1, b1, st2, b2)
	}
	// A forged Host header does not reach the link.
	req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/auth/forgot-password", strings.NewReader(`{"org":"metro","email":"rae@example.org"}`))
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	res, err := e.ts.Client().Do(req)
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("forgot with a forged host: %v %v", err, res)
	}
	res.Body.Close()
	base, token, code := e.lastLink("rae@example.org")
	if base != "http://127.0.0.1" {
		t.Errorf("the link starts with %q, want the base URL", base)
	}
	for _, m := range e.outbox("metro") {
		if strings.Contains(m.TextBody+m.HTMLBody, "evil.example") {
			t.Error("a forged Host reached an email")
		}
		if m.To != "rae@example.org" && m.To != "ann@example.org" {
			t.Errorf("mail to %q", m.To)
		}
	}
	// Opening the link changes nothing; the newer link killed the older.
	if st, _, _ := e.do("GET", "/o/metro/reset-password?token="+token, "", ""); st != 200 {
		t.Errorf("open the link: %d", st)
	}
	if st, _, _ := e.do("GET", "/o/metro/reset-password?token="+token, "", ""); st != 200 {
		t.Errorf("open the link twice: %d", st)
	}
	reset := func(body map[string]string) (int, map[string]any) {
		return e.call("POST", "/api/v1/auth/reset-password", "", body)
	}
	if st, m := reset(map[string]string{"token": token, "new_password": "short"}); st != 422 || code_(m) != "password_policy" {
		t.Errorf("short: %d %v", st, m)
	}
	if st, m := reset(map[string]string{"token": token, "new_password": "rae-has-a-new-password"}); st != 200 {
		t.Fatalf("reset: %d %v", st, m)
	}
	if st, m := reset(map[string]string{"token": token, "new_password": "rae-has-another-password"}); st != 400 || code_(m) != "invalid_token" {
		t.Errorf("the link twice: %d %v", st, m)
	}
	if st, m := reset(map[string]string{"org": "metro", "email": "rae@example.org", "code": code, "new_password": "rae-has-another-password"}); st != 400 {
		t.Errorf("the code after the link was used: %d %v", st, m)
	}
	// Sessions ended, the lock cleared, no sign-in handed out; the new password works.
	if st, _ := e.call("GET", "/api/v1/me", session, nil); st != 401 {
		t.Errorf("a session survived the reset: %d", st)
	}
	if st, _ := e.loginAs("metro", "rae@example.org", "rae-has-a-new-password"); st != 200 {
		t.Errorf("sign in after the reset (the lock must be cleared): %d", st)
	}
	// Garbage tokens.
	for _, tok := range []string{"x", "lkr_" + strings.Repeat("A", 43), token + "x", "lk_" + token[4:]} {
		if st, m := reset(map[string]string{"token": tok, "new_password": "whatever-long-password"}); st != 400 || code_(m) != "invalid_token" {
			t.Errorf("token %.12q: %d %v", tok, st, m)
		}
	}
}

func code_(m map[string]any) string { return code(m) }

func TestResetLink_supersededAndExpired(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	e.createUser(admin, map[string]any{"email": "sam@example.org", "name": "Sam", "kind": "staff", "password": pw})
	e.forgot("sam@example.org")
	_, first, _ := e.lastLink("sam@example.org")
	e.forgot("sam@example.org")
	_, second, _ := e.lastLink("sam@example.org")
	if st, m := e.call("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": first, "new_password": "sam-new-password-1"}); st != 400 {
		t.Errorf("superseded link: %d %v", st, m)
	}
	e.clock.Advance(61 * time.Minute)
	if st, m := e.call("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": second, "new_password": "sam-new-password-1"}); st != 400 {
		t.Errorf("expired link: %d %v", st, m)
	}
}

func TestResetCode(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	e.createUser(admin, map[string]any{"email": "cody@example.org", "name": "Cody", "kind": "staff", "password": pw})
	e.forgot("cody@example.org")
	_, _, code := e.lastLink("cody@example.org")
	wrong := "00000000"
	if wrong == code {
		wrong = "11111111"
	}
	for range 5 {
		st, m := e.call("POST", "/api/v1/auth/reset-password", "", map[string]string{"org": "metro", "email": "cody@example.org", "code": wrong, "new_password": "cody-new-password"})
		if st != 400 || code_(m) != "invalid_token" {
			t.Fatalf("wrong code: %d %v", st, m)
		}
	}
	if st, _ := e.call("POST", "/api/v1/auth/reset-password", "", map[string]string{"org": "metro", "email": "cody@example.org", "code": code, "new_password": "cody-new-password"}); st != 400 {
		t.Errorf("the right code after 5 wrong ones: %d", st)
	}
	e.forgot("cody@example.org")
	_, _, code = e.lastLink("cody@example.org")
	if st, m := e.call("POST", "/api/v1/auth/reset-password", "", map[string]string{"org": "metro", "email": " Cody@Example.org", "code": code, "new_password": "cody-new-password"}); st != 200 {
		t.Errorf("a fresh code: %d %v", st, m)
	}
	if st, _ := e.loginAs("metro", "cody@example.org", "cody-new-password"); st != 200 {
		t.Errorf("sign in after the code: %d", st)
	}
}

func TestForgotPassword_whoGetsWhat(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	e.call("PATCH", "/api/v1/org", admin, map[string]any{"sso": map[string]string{"provider_name": "Metro Okta", "login_url": "https://okta.metro.example"}})
	e.createUser(admin, map[string]any{"email": "sso@example.org", "name": "Sso", "kind": "staff", "auth_source": "sso"})
	off := e.createUser(admin, map[string]any{"email": "off@example.org", "name": "Off", "kind": "staff", "password": pw})
	e.call("PATCH", fmt.Sprintf("/api/v1/users/%d", off), admin, map[string]any{"status": "disabled"})
	tmp := e.createUser(admin, map[string]any{"email": "tmp@example.org", "name": "Tmp", "kind": "staff", "password": pw})
	e.call("POST", fmt.Sprintf("/api/v1/users/%d/temporary-password", tmp), admin, nil)
	e.createUser(admin, map[string]any{"email": "many@example.org", "name": "Many", "kind": "staff", "password": pw})
	for _, addr := range []string{"sso@example.org", "off@example.org", "tmp@example.org"} {
		if st, _ := e.forgot(addr); st != 202 {
			t.Errorf("forgot %s: %d", addr, st)
		}
	}
	for range 7 {
		if st, _ := e.forgot("many@example.org"); st != 202 {
			t.Errorf("forgot many: %d", st)
		}
	}
	got := map[string][]string{}
	for _, m := range e.outbox("metro") {
		got[m.To] = append(got[m.To], m.Template)
		if m.To == "sso@example.org" && (!strings.Contains(m.TextBody, "Metro Okta") || strings.Contains(m.TextBody, "token=")) {
			t.Errorf("sso reminder: %q", m.TextBody)
		}
	}
	if len(got["off@example.org"]) != 0 || len(got["tmp@example.org"]) != 0 {
		t.Errorf("disabled or temporary-password users got mail: %v", got)
	}
	if fmt.Sprint(got["sso@example.org"]) != "[sso_reminder]" {
		t.Errorf("sso user got %v", got["sso@example.org"])
	}
	if n := len(got["many@example.org"]); n != 5 {
		t.Errorf("7 requests in an hour queued %d emails, want 5", n)
	}
	// Switched off: 403 and a page that says so; the sign-in page hides the link.
	e.call("PATCH", "/api/v1/org", admin, map[string]any{"self_service_reset": false})
	if st, b := e.forgot("many@example.org"); st != 403 || !strings.Contains(string(b), "self_service_disabled") {
		t.Errorf("switched off: %d %s", st, b)
	}
	if _, b, _ := e.do("GET", "/o/metro/login", "", ""); strings.Contains(string(b), "Forgot your password?") {
		t.Error("the sign-in page offers a switched-off reset")
	}
}

func TestForgotPassword_timing(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	e.call("PATCH", "/api/v1/org", admin, map[string]any{"lockout": map[string]any{"max_failures": 100}})
	for i := range 60 {
		e.createUser(admin, map[string]any{"email": fmt.Sprintf("t%d@example.org", i), "name": "T", "kind": "staff", "password": pw})
	}
	median := func(f func(i int)) time.Duration {
		var ds []time.Duration
		for i := range 50 {
			start := time.Now()
			f(i)
			ds = append(ds, time.Since(start))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	known := median(func(i int) { e.forgot(fmt.Sprintf("t%d@example.org", i)) })
	unknown := median(func(i int) { e.forgot(fmt.Sprintf("ghost%d@example.org", i)) })
	t.Logf("forgot-password median: known %v, unknown %v", known, unknown)
	if d := known - unknown; d > 3*time.Millisecond || d < -3*time.Millisecond {
		t.Errorf("medians differ by %v (known %v, unknown %v)", d, known, unknown)
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	e.createUser(admin, map[string]any{"email": "chi@example.org", "name": "Chi", "kind": "staff", "password": pw})
	_, web := e.loginAs("metro", "chi@example.org", pw)
	_, app := e.loginAs("metro", "chi@example.org", pw)
	if st, m := e.call("POST", "/api/v1/me/password", web, map[string]string{"current_password": "not-it-at-all", "new_password": "chi-new-password"}); st != 401 {
		t.Errorf("wrong current: %d %v", st, m)
	}
	if st, m := e.call("POST", "/api/v1/me/password", web, map[string]string{"current_password": pw, "new_password": "short"}); st != 422 {
		t.Errorf("short new: %d %v", st, m)
	}
	if st, m := e.call("POST", "/api/v1/me/password", web, map[string]string{"current_password": pw, "new_password": "chi-new-password"}); st != 204 {
		t.Fatalf("change: %d %v", st, m)
	}
	if st, _ := e.call("GET", "/api/v1/me", web, nil); st != 200 {
		t.Errorf("the session that changed it: %d", st)
	}
	if st, _ := e.call("GET", "/api/v1/me", app, nil); st != 401 {
		t.Errorf("the other session: %d", st)
	}
	// Wrong current passwords count toward the lockout.
	for i := range 6 {
		e.call("POST", "/api/v1/me/password", web, map[string]string{"current_password": fmt.Sprintf("guess-%d-guess", i), "new_password": "chi-newer-password"})
	}
	_, u := e.call("GET", "/api/v1/me", web, nil)
	if u["locked_until"] == nil {
		t.Errorf("6 wrong current passwords did not lock: %v", u)
	}
	if st, _ := e.call("POST", "/api/v1/me/password", web, map[string]string{"current_password": "chi-new-password", "new_password": "chi-newer-password"}); st != 401 {
		t.Errorf("change while locked: %d", st)
	}
	var notices int
	for _, m := range e.outbox("metro") {
		if m.To == "chi@example.org" && m.Template == account.TemplatePasswordChanged {
			notices++
		}
	}
	if notices != 1 { // the one change above; the password given at creation is no change
		t.Errorf("%d password_changed notices, want 1", notices)
	}
}

func TestAdminResetEmailAndEmails(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	staff := e.createUser(admin, map[string]any{"email": "st@example.org", "name": "St", "kind": "staff", "password": pw})
	res := e.createUser(admin, map[string]any{"email": "re@example.org", "name": "Re", "kind": "resident", "password": pw})
	sso := e.createUser(admin, map[string]any{"email": "ss@example.org", "name": "Ss", "kind": "staff", "auth_source": "sso"})
	st, m := e.call("POST", fmt.Sprintf("/api/v1/users/%d/password-reset-email", staff), admin, nil)
	em, _ := m["email"].(map[string]any)
	if st != 202 || em["to"] != "st@example.org" || em["status"] != "queued" || em["template"] != "reset" {
		t.Fatalf("admin reset email: %d %v", st, m)
	}
	if st, m := e.call("POST", fmt.Sprintf("/api/v1/users/%d/password-reset-email", sso), admin, nil); st != 409 || code(m) != "sso_managed" {
		t.Errorf("sso: %d %v", st, m)
	}
	e.call("POST", fmt.Sprintf("/api/v1/users/%d/password-reset-email", res), admin, nil)
	_, u := e.call("GET", fmt.Sprintf("/api/v1/users/%d", staff), admin, nil)
	if re := u["recent_emails"].([]any); len(re) != 1 || re[0].(map[string]any)["status"] != "queued" {
		t.Errorf("recent_emails: %v", u["recent_emails"])
	}
	// A Community Manager sees residents' emails only.
	e.createUser(admin, map[string]any{"email": "cm@example.org", "name": "Cm", "kind": "staff", "roles": []string{"Community Manager"}, "password": pw})
	_, cm := e.loginAs("metro", "cm@example.org", pw)
	_, m = e.call("GET", "/api/v1/emails", cm, nil)
	for _, x := range m["emails"].([]any) {
		if x.(map[string]any)["to"] != "re@example.org" {
			t.Errorf("a Community Manager sees %v", x)
		}
	}
	if st, _ := e.call("POST", fmt.Sprintf("/api/v1/emails/%d", int(em["id"].(float64)))+"/resend", cm, nil); st != 404 {
		t.Errorf("a Community Manager resends a staff email: %d", st)
	}
	// Resend issues a fresh link; the old one dies.
	_, old, _ := e.lastLink("st@example.org")
	if st, m := e.call("POST", fmt.Sprintf("/api/v1/emails/%d/resend", int(em["id"].(float64))), admin, nil); st != 202 {
		t.Fatalf("resend: %d %v", st, m)
	}
	_, fresh, _ := e.lastLink("st@example.org")
	if fresh == old {
		t.Fatal("resend reused the link")
	}
	if st, _ := e.call("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": old, "new_password": "st-new-password-1"}); st != 400 {
		t.Errorf("the old link after a resend: %d", st)
	}
	if st, _ := e.call("GET", "/api/v1/emails?status=lost", admin, nil); st != 422 {
		t.Errorf("bad status filter: %d", st)
	}
}

func TestWelcomeEmail(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	st, m := e.call("POST", "/api/v1/users", admin, map[string]any{"email": "wen@example.org", "name": "Wen", "kind": "staff"})
	if st != 201 || m["user"].(map[string]any)["status"] != "invited" {
		t.Fatalf("create invited: %d %v", st, m)
	}
	_, token, _ := e.lastLink("wen@example.org")
	if _, b, _ := e.do("GET", "/o/metro/reset-password?token="+token, "", ""); !strings.Contains(string(b), "Choose your password") {
		t.Errorf("the welcome page: %.300s", b)
	}
	if st, m := e.call("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": token, "new_password": "wen-chose-this-one"}); st != 200 {
		t.Fatalf("choose: %d %v", st, m)
	}
	if st, _ := e.loginAs("metro", "wen@example.org", "wen-chose-this-one"); st != 200 {
		t.Errorf("sign in after choosing: %d", st)
	}
	// send_welcome false queues nothing.
	e.call("POST", "/api/v1/users", admin, map[string]any{"email": "quiet@example.org", "name": "Q", "kind": "staff", "send_welcome": false})
	for _, m := range e.outbox("metro") {
		if m.To == "quiet@example.org" {
			t.Errorf("send_welcome false queued %s", m.Template)
		}
	}
}

// TestResetCode_clientGone: wrong codes whose clients hung up (their
// requests' contexts cancelled) count toward the limit of 5 all the same.
func TestResetCode_clientGone(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	e.createUser(admin, map[string]any{"email": "cody@example.org", "name": "Cody", "kind": "staff", "password": pw})
	e.forgot("cody@example.org")
	_, _, code := e.lastLink("cody@example.org")
	wrong := "00000000"
	if wrong == code {
		wrong = "11111111"
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for range 5 {
		err := e.svc.CompleteReset(gone, account.ResetInput{Org: "metro", Email: "cody@example.org",
			Code: account.Secret(wrong), NewPassword: "cody-new-password"})
		if account.ErrorCode(err) != account.CodeInvalidToken {
			t.Fatalf("a wrong code from a client gone: %v, want invalid_token", err)
		}
	}
	if st, _ := e.call("POST", "/api/v1/auth/reset-password", "", map[string]string{"org": "metro", "email": "cody@example.org", "code": code, "new_password": "cody-new-password"}); st != 400 {
		t.Errorf("the right code after 5 wrong ones whose clients hung up: %d, want 400", st)
	}
}
