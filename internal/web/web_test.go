package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/sqlstore"
	"github.com/latchkey/latchkey/internal/web"
)

// fakeClock is a Clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fastParams keep argon2id cheap in tests that are not about its cost.
var fastParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const adminPassword = "correct-horse-battery"

type env struct {
	t     testing.TB
	ts    *httptest.Server
	store *sqlstore.DB
	svc   *account.Service
	clock *fakeClock
	cfg   account.Config
}

type envOpts struct {
	log      *slog.Logger
	limiter  *password.Limiter
	params   *password.Params
	limits   web.IPLimits
	proxies  []netip.Prefix
	baseURL  string
	noAdminP bool
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "web.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if o.limiter == nil {
		o.limiter = password.NewLimiter(4, 256, 5*time.Second)
	}
	p := fastParams
	if o.params != nil {
		p = *o.params
	}
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	renderer, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	base := o.baseURL
	if base == "" {
		base = "http://127.0.0.1"
	}
	cfg := account.Config{SessionTTL: 14 * 24 * time.Hour, SessionIdle: 24 * time.Hour, ChallengeTTL: 15 * time.Minute,
		Renderer: renderer, BaseURL: base, DevMailbox: true}
	svc := account.NewService(db, password.NewHasher(p, o.limiter), clock, o.log, cfg)
	in := account.InitInput{Slug: "metro", Name: "Metro Fire", AdminEmail: "ann@example.org", AdminPassword: adminPassword}
	if o.noAdminP {
		in.AdminPassword = ""
	}
	if _, err := svc.Init(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Init(ctx, account.InitInput{Slug: "other", AdminEmail: "bob@example.org", AdminPassword: adminPassword}); err != nil {
		t.Fatal(err)
	}
	bu, _ := url.Parse(base)
	srv, err := web.NewServer(web.Options{Accounts: svc, Log: o.log, BaseURL: bu, IPLimits: o.limits, TrustedProxies: o.proxies,
		Clock: clock, SessionTTL: cfg.SessionTTL})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, ts: ts, store: db, svc: svc, clock: clock, cfg: cfg}
}

// do sends a JSON request and returns the status and body.
func (e *env) do(method, path, token, body string) (int, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

func (e *env) login(email, pw string) (int, map[string]any) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"org": "metro", "email": email, "password": pw})
	st, b, _ := e.do("POST", "/api/v1/auth/login", "", string(body))
	var m map[string]any
	json.Unmarshal(b, &m)
	return st, m
}

func (e *env) token() string {
	e.t.Helper()
	st, m := e.login("ann@example.org", adminPassword)
	tok, _ := m["token"].(string)
	if st != 200 || tok == "" {
		e.t.Fatalf("login: %d %v", st, m)
	}
	return tok
}

func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var m struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Error.Code == "" || m.Error.Message == "" {
		t.Fatalf("not the API error shape: %s", b)
	}
	return m.Error.Code
}

func TestLogin(t *testing.T) {
	e := newEnv(t, envOpts{})
	st, m := e.login("ann@example.org", adminPassword)
	tok, _ := m["token"].(string)
	if st != 200 || !strings.HasPrefix(tok, "lk_") || len(tok) != 3+43 {
		t.Fatalf("login: %d %v", st, m)
	}
	user, _ := m["user"].(map[string]any)
	for _, f := range []string{"id", "email", "name", "kind", "roles", "status", "locked_until", "failed_logins",
		"auth_source", "created_at", "updated_at", "last_login_at", "password_changed_at"} {
		if _, ok := user[f]; !ok {
			t.Errorf("user has no %q: %v", f, user)
		}
	}
	if _, err := time.Parse(time.RFC3339, m["expires_at"].(string)); err != nil {
		t.Errorf("expires_at: %v", err)
	}
	// Case and surrounding spaces of the email do not matter.
	if st, _ := e.login("  Ann@Example.ORG ", adminPassword); st != 200 {
		t.Errorf("login with a differently written email: %d", st)
	}

	// Wrong password, unknown email and unknown organization answer alike.
	var bodies [][]byte
	for _, body := range []string{
		`{"org":"metro","email":"ann@example.org","password":"wrong-password-1"}`,
		`{"org":"metro","email":"nobody@example.org","password":"wrong-password-1"}`,
		`{"org":"nowhere","email":"ann@example.org","password":"wrong-password-1"}`,
		`{"org":"other","email":"ann@example.org","password":"` + adminPassword + `"}`,
	} {
		st, b, _ := e.do("POST", "/api/v1/auth/login", "", body)
		if st != 401 || errorCode(t, b) != "invalid_credentials" {
			t.Errorf("%s: %d %s", body, st, b)
		}
		bodies = append(bodies, b)
	}
	for i := 1; i < len(bodies); i++ {
		if !bytes.Equal(bodies[0], bodies[i]) {
			t.Errorf("failure bodies differ:\n%s\n%s", bodies[0], bodies[i])
		}
	}
}

func TestLogin_audit(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.token()
	e.login("ann@example.org", "not-the-password")
	e.login("ghost@example.org", "not-the-password")
	var evs []account.AuditEvent
	err := e.store.View(context.Background(), func(tx account.Tx) error {
		o, err := tx.OrgBySlug(context.Background(), "metro")
		if err != nil {
			return err
		}
		evs, err = tx.AuditEvents(context.Background(), o.ID, account.AuditFilter{Limit: 100})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ev := range evs {
		raw, _ := json.Marshal(ev)
		if strings.Contains(string(raw), "not-the-password") || strings.Contains(string(raw), adminPassword) {
			t.Errorf("audit event holds a password: %s", raw)
		}
		if ev.Action == account.ActionLogin || ev.Action == account.ActionLoginFailed {
			if ev.IP != "127.0.0.1" || !strings.HasPrefix(ev.UserAgent, "Go-http-client") {
				t.Errorf("%s: ip %q user agent %q", ev.Action, ev.IP, ev.UserAgent)
			}
			got[string(ev.Action)+"/"+reason(ev)]++
		}
	}
	want := map[string]int{"user.login/": 1, "user.login_failed/bad_password": 1, "user.login_failed/unknown_email": 1}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("audit %s: %d events, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

func reason(ev account.AuditEvent) string {
	r, _ := ev.Details["reason"].(string)
	return r
}

func TestBearerAndCookieAtOnce(t *testing.T) {
	e := newEnv(t, envOpts{})
	bearerTok := e.token()

	// The web sign-in sets the session cookie.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	csrf := getCSRF(t, browser, e.ts.URL+"/o/metro/login")
	res, err := browser.PostForm(e.ts.URL+"/o/metro/login", url.Values{"email": {"ann@example.org"},
		"password": {adminPassword}, "csrf_token": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/o/metro/" {
		t.Fatalf("after sign-in the browser is at %s, want /o/metro/", res.Request.URL.Path)
	}
	u, _ := url.Parse(e.ts.URL)
	var sc *http.Cookie
	for _, c := range jar.Cookies(u) {
		if c.Name == "latchkey_session" {
			sc = c
		}
	}
	if sc == nil {
		t.Fatal("no latchkey_session cookie")
	}
	me := func(c *http.Client, bearer string) int {
		req, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/me", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := me(browser, ""); st != 200 {
		t.Errorf("cookie /me: %d", st)
	}
	if st := me(http.DefaultClient, bearerTok); st != 200 {
		t.Errorf("bearer /me: %d", st)
	}
	// Logging the app out leaves the browser signed in.
	if st, _, _ := e.do("POST", "/api/v1/auth/logout", bearerTok, ""); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	if st := me(http.DefaultClient, bearerTok); st != 401 {
		t.Errorf("bearer /me after logout: %d, want 401", st)
	}
	if st := me(browser, ""); st != 200 {
		t.Errorf("cookie /me after the app's logout: %d, want 200", st)
	}
	// The session token is never taken from the URL.
	if st := me(http.DefaultClient, ""); st != 401 {
		t.Errorf("/me without credentials: %d", st)
	}
	st, _, _ := e.do("GET", "/api/v1/me?token="+url.QueryEscape(sc.Value)+"&access_token="+url.QueryEscape(sc.Value), "", "")
	if st != 401 {
		t.Errorf("/me with the token in the query: %d, want 401", st)
	}
	// Garbage and missing tokens are a plain 401.
	for _, tok := range []string{"garbage", "lk_" + strings.Repeat("A", 43), strings.Repeat("x", 5000)} {
		if st, b, _ := e.do("GET", "/api/v1/me", tok, ""); st != 401 || errorCode(t, b) != "unauthorized" {
			t.Errorf("token %.10q: %d %s", tok, st, b)
		}
	}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func getCSRF(t *testing.T, c *http.Client, page string) string {
	t.Helper()
	res, err := c.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s has no csrf_token field: %s", page, b)
	}
	return string(m[1])
}

func TestSessionLimits(t *testing.T) {
	e := newEnv(t, envOpts{})
	// Idle: unused for longer than the idle timeout.
	tok := e.token()
	e.clock.Advance(e.cfg.SessionIdle - time.Minute)
	if st, _, _ := e.do("GET", "/api/v1/me", tok, ""); st != 200 {
		t.Fatalf("within the idle timeout: %d", st)
	}
	e.clock.Advance(e.cfg.SessionIdle - time.Second) // measured from the last use
	if st, _, _ := e.do("GET", "/api/v1/me", tok, ""); st != 200 {
		t.Fatalf("idle time counts from the last use: %d", st)
	}
	e.clock.Advance(e.cfg.SessionIdle + time.Second)
	if st, _, _ := e.do("GET", "/api/v1/me", tok, ""); st != 401 {
		t.Errorf("after the idle timeout: %d, want 401", st)
	}
	// Absolute: used every few hours, it still ends after the TTL.
	tok = e.token()
	for used := time.Duration(0); used < e.cfg.SessionTTL-6*time.Hour; used += 6 * time.Hour {
		e.clock.Advance(6 * time.Hour)
		if st, _, _ := e.do("GET", "/api/v1/me", tok, ""); st != 200 {
			t.Fatalf("%v into the session: %d", used, st)
		}
	}
	e.clock.Advance(6*time.Hour + time.Second)
	if st, _, _ := e.do("GET", "/api/v1/me", tok, ""); st != 401 {
		t.Errorf("after the absolute lifetime: %d, want 401", st)
	}
}

func TestStrictDecoding(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, tc := range []struct{ name, body, code string }{
		{"malformed", `{"org":`, "invalid_json"},
		{"empty", ``, "invalid_json"},
		{"not an object", `[1,2]`, "invalid_json"},
		{"trailing", `{"org":"metro","email":"ann@example.org","password":"x"} {}`, "invalid_json"},
		{"wrong type", `{"org":"metro","email":"ann@example.org","password":42}`, "invalid_json"},
		{"unknown field", `{"org":"metro","email":"ann@example.org","pasword":"x"}`, "unknown_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, b, _ := e.do("POST", "/api/v1/auth/login", "", tc.body)
			if st != 400 || errorCode(t, b) != tc.code {
				t.Errorf("%d %s, want 400 %s", st, b, tc.code)
			}
			if tc.code == "unknown_field" && !strings.Contains(string(b), "pasword") {
				t.Errorf("the error does not name the field: %s", b)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		big := `{"org":"metro","email":"ann@example.org","password":"` + strings.Repeat("a", 1<<20) + `"}`
		st, b, _ := e.do("POST", "/api/v1/auth/login", "", big)
		if st != 413 || errorCode(t, b) != "body_too_large" {
			t.Errorf("%d %s", st, b)
		}
	})
	t.Run("10 kB password", func(t *testing.T) {
		start := time.Now()
		st, b, _ := e.do("POST", "/api/v1/auth/login", "", `{"org":"metro","email":"ann@example.org","password":"`+strings.Repeat("p", 10000)+`"}`)
		if st != 422 || errorCode(t, b) != "password_policy" || !strings.Contains(string(b), "max_length") {
			t.Errorf("%d %s", st, b)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v", d)
		}
	})
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/nothing", 404, "not_found"},
		{"GET", "/o/metro/nothing/here", 404, "not_found"},
		{"DELETE", "/api/v1/auth/login", 405, "method_not_allowed"},
		{"POST", "/api/v1/me", 405, "method_not_allowed"},
		{"GET", "/api/v1/orgs/nowhere/password-policy", 404, "not_found"},
	} {
		st, b, h := e.do(tc.method, tc.path, "", "")
		if st != tc.status || errorCode(t, b) != tc.code {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, st, b, tc.status, tc.code)
		}
		if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, h.Get("Content-Type"))
		}
		if tc.status == 405 && h.Get("Allow") == "" {
			t.Errorf("%s %s: no Allow header", tc.method, tc.path)
		}
	}
}

func TestPasswordPolicyPublic(t *testing.T) {
	e := newEnv(t, envOpts{})
	st, b, _ := e.do("GET", "/api/v1/orgs/metro/password-policy", "", "")
	var m struct {
		Rules []struct{ Rule, Message string } `json:"rules"`
	}
	if err := json.Unmarshal(b, &m); st != 200 || err != nil || len(m.Rules) < 2 {
		t.Fatalf("%d %s", st, b)
	}
	if m.Rules[0].Rule != "min_length" || m.Rules[0].Message == "" {
		t.Errorf("rules: %+v", m.Rules)
	}
}

func TestNewPasswordChallenge(t *testing.T) {
	e := newEnv(t, envOpts{noAdminP: true})
	// Find the temporary password: init generated it; issue one through Init's
	// twin for a fresh org whose password we know.
	res, err := e.svc.Init(context.Background(), account.InitInput{Slug: "fresh", AdminEmail: "cy@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"org": "fresh", "email": "cy@example.org", "password": string(res.TemporaryPassword)})
	st, b, _ := e.do("POST", "/api/v1/auth/login", "", string(body))
	var ch struct {
		Challenge      string                           `json:"challenge"`
		ChallengeToken string                           `json:"challenge_token"`
		Token          string                           `json:"token"`
		PasswordRules  []struct{ Rule, Message string } `json:"password_rules"`
	}
	json.Unmarshal(b, &ch)
	if st != 200 || ch.Challenge != "new_password_required" || ch.ChallengeToken == "" || ch.Token != "" || len(ch.PasswordRules) == 0 {
		t.Fatalf("login with the temporary password: %d %s", st, b)
	}
	// The challenge token is not a session.
	if st, _, _ := e.do("GET", "/api/v1/me", ch.ChallengeToken, ""); st != 401 {
		t.Errorf("/me with the challenge token: %d, want 401", st)
	}
	np := func(tok, pw string) (int, []byte) {
		b, _ := json.Marshal(map[string]string{"challenge_token": tok, "new_password": pw})
		st, out, _ := e.do("POST", "/api/v1/auth/new-password", "", string(b))
		return st, out
	}
	if st, b := np(ch.ChallengeToken, "short"); st != 422 || errorCode(t, b) != "password_policy" || !strings.Contains(string(b), `"rule":"min_length"`) {
		t.Errorf("short password: %d %s", st, b)
	}
	if st, b := np(ch.ChallengeToken, string(res.TemporaryPassword)); st != 422 || errorCode(t, b) != "password_policy" {
		t.Errorf("the temporary password as the new one: %d %s", st, b)
	}
	if st, b := np("lkc_bogus", "a-fine-new-password"); st != 401 || errorCode(t, b) != "invalid_challenge" {
		t.Errorf("bogus challenge: %d %s", st, b)
	}
	st, b = np(ch.ChallengeToken, "a-fine-new-password")
	var sess struct {
		Token string `json:"token"`
		User  struct {
			Status string `json:"status"`
		} `json:"user"`
	}
	json.Unmarshal(b, &sess)
	if st != 200 || sess.Token == "" || sess.User.Status != "active" {
		t.Fatalf("new password: %d %s", st, b)
	}
	if st, _, _ := e.do("GET", "/api/v1/me", sess.Token, ""); st != 200 {
		t.Errorf("/me with the new session: %d", st)
	}
	// Used once; the temporary password no longer signs in; the new one does.
	if st, b := np(ch.ChallengeToken, "another-new-password"); st != 401 || errorCode(t, b) != "invalid_challenge" {
		t.Errorf("reused challenge: %d %s", st, b)
	}
	if st, _, _ := e.do("POST", "/api/v1/auth/login", "", string(body)); st != 401 {
		t.Errorf("temporary password after the change: %d, want 401", st)
	}
	body, _ = json.Marshal(map[string]string{"org": "fresh", "email": "cy@example.org", "password": "a-fine-new-password"})
	if st, b, _ := e.do("POST", "/api/v1/auth/login", "", string(body)); st != 200 || !strings.Contains(string(b), `"token"`) {
		t.Errorf("new password: %d %s", st, b)
	}
}

func TestExpiredTemporaryPassword(t *testing.T) {
	e := newEnv(t, envOpts{})
	res, err := e.svc.Init(context.Background(), account.InitInput{Slug: "fresh", AdminEmail: "cy@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(73 * time.Hour)
	body, _ := json.Marshal(map[string]string{"org": "fresh", "email": "cy@example.org", "password": string(res.TemporaryPassword)})
	if st, b, _ := e.do("POST", "/api/v1/auth/login", "", string(body)); st != 401 || errorCode(t, b) != "temporary_password_expired" {
		t.Errorf("expired temporary password: %d %s", st, b)
	}
	body, _ = json.Marshal(map[string]string{"org": "fresh", "email": "cy@example.org", "password": "some-other-guess"})
	if st, b, _ := e.do("POST", "/api/v1/auth/login", "", string(body)); st != 401 || errorCode(t, b) != "invalid_credentials" {
		t.Errorf("a wrong password for that user: %d %s", st, b)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, envOpts{})
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	getCSRF(t, c, e.ts.URL+"/o/metro/login")
	form := url.Values{"email": {"ann@example.org"}, "password": {adminPassword}}
	res, err := c.PostForm(e.ts.URL+"/o/metro/login", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("form without its token: %d, want 403", res.StatusCode)
	}
	form.Set("csrf_token", "forged-forged-forged-forged-forged-forged")
	res, _ = c.PostForm(e.ts.URL+"/o/metro/login", form)
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("form with a wrong token: %d, want 403", res.StatusCode)
	}
	// A cross-site post is refused by the browser-signal check, before the token.
	tok := getCSRF(t, c, e.ts.URL+"/o/metro/login")
	form.Set("csrf_token", tok)
	req, _ := http.NewRequest("POST", e.ts.URL+"/o/metro/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, _ = c.Do(req)
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("cross-site form: %d, want 403", res.StatusCode)
	}
}

func TestCookiesAndHeaders(t *testing.T) {
	for _, tc := range []struct {
		base, name string
		secure     bool
	}{
		{"http://127.0.0.1", "latchkey_session", false},
		{"https://accounts.example.org", "__Host-latchkey_session", true},
	} {
		e := newEnv(t, envOpts{baseURL: tc.base})
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		tok := getCSRF(t, c, e.ts.URL+"/o/metro/login")
		req, _ := http.NewRequest("POST", e.ts.URL+"/o/metro/login", strings.NewReader(url.Values{"email": {"ann@example.org"},
			"password": {adminPassword}, "csrf_token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// The jar would not send __Host- cookies over plain http: add it by hand.
		for _, ck := range jar.Cookies(mustURL(e.ts.URL)) {
			req.AddCookie(ck)
		}
		if tc.secure {
			req.AddCookie(&http.Cookie{Name: "__Host-latchkey_csrf", Value: tok})
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		var sc *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == tc.name {
				sc = ck
			}
		}
		if res.StatusCode != 303 || sc == nil {
			t.Fatalf("%s: sign-in %d, cookies %v", tc.base, res.StatusCode, res.Cookies())
		}
		if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure != tc.secure || sc.Domain != "" {
			t.Errorf("%s: cookie %+v", tc.base, sc)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", tc.base, h, got, want)
			}
		}
		if res.Header.Get("X-Request-Id") == "" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: headers %v", tc.base, res.Header)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestOverloadIs503(t *testing.T) {
	// One hashing slot, no queue, default cost: concurrent sign-ins beyond the
	// slot are turned away at once with Retry-After, none fails otherwise.
	d := password.DefaultParams()
	e := newEnv(t, envOpts{limiter: password.NewLimiter(1, 0, 50*time.Millisecond), params: &d})
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"org":"metro","email":"ann@example.org","password":"` + adminPassword + `"}`
			st, b, h := e.do("POST", "/api/v1/auth/login", "", body)
			if st == 503 && (h.Get("Retry-After") == "" || errorCode(t, b) != "overloaded") {
				t.Errorf("503 without Retry-After or code: %v %s", h, b)
			}
			mu.Lock()
			got[st]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got[503] == 0 || got[200] == 0 || got[200]+got[503] != 24 {
		t.Errorf("statuses %v, want some 200 and some 503 only", got)
	}
}

func TestPeakOf64Served(t *testing.T) {
	// The default limiter serves an ordinary peak of 64 sign-ins at once.
	d := password.DefaultParams()
	e := newEnv(t, envOpts{limiter: password.DefaultLimiter(), params: &d})
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, _, _ := e.do("POST", "/api/v1/auth/login", "", `{"org":"metro","email":"ann@example.org","password":"`+adminPassword+`"}`)
			mu.Lock()
			got[st]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got[200] != 64 {
		t.Errorf("statuses %v, want 64 × 200", got)
	}
}

func TestIPLimits(t *testing.T) {
	e := newEnv(t, envOpts{limits: web.IPLimits{"login": {Rate: 1, Burst: 2}}})
	var last int
	var hdr http.Header
	for range 3 {
		last, _, hdr = e.do("POST", "/api/v1/auth/login", "", `{"org":"metro","email":"ann@example.org","password":"nope-nope-nope"}`)
	}
	if last != 429 || hdr.Get("Retry-After") == "" {
		t.Errorf("third sign-in in a burst of 2: %d Retry-After %q", last, hdr.Get("Retry-After"))
	}
	e.clock.Advance(2 * time.Second)
	if st, _, _ := e.do("POST", "/api/v1/auth/login", "", `{"org":"metro","email":"ann@example.org","password":"`+adminPassword+`"}`); st != 200 {
		t.Errorf("after the bucket refilled: %d", st)
	}
}

func TestParseIPLimits(t *testing.T) {
	l, err := web.ParseIPLimits(web.DefaultIPLimits)
	if err != nil || l["login"] != (web.Bucket{Rate: 10, Burst: 100}) || l["forgot"].Rate != 5 {
		t.Errorf("defaults: %v %v", l, err)
	}
	if l, err := web.ParseIPLimits("off"); err != nil || l != nil {
		t.Errorf("off: %v %v", l, err)
	}
	for _, bad := range []string{"login=10", "login=a:b", "login=-1:5", "nope=1:1", "login=1:0"} {
		if _, err := web.ParseIPLimits(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, envOpts{})
	for _, p := range []string{"/healthz", "/readyz"} {
		if st, b, _ := e.do("GET", p, "", ""); st != 200 || !strings.Contains(string(b), "ok") {
			t.Errorf("%s: %d %s", p, st, b)
		}
	}
	e.token()
	st, b, _ := e.do("GET", "/metrics", "", "")
	for _, m := range []string{`latchkey_http_requests_total{method="POST",route="POST /api/v1/auth/login",status="200"} 1`,
		"latchkey_http_request_duration_seconds_bucket"} {
		if st != 200 || !strings.Contains(string(b), m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
	e.store.Close()
	if st, _, _ := e.do("GET", "/readyz", "", ""); st != 503 {
		t.Errorf("/readyz with the database closed: %d, want 503", st)
	}
}

func TestForwardedFor(t *testing.T) {
	login := func(e *env, xff string) int {
		req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/auth/login",
			strings.NewReader(`{"org":"metro","email":"ann@example.org","password":"wrong-password-x"}`))
		req.Header.Set("X-Forwarded-For", xff)
		res, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	limits := web.IPLimits{"login": {Rate: 0.001, Burst: 2}}
	// From an untrusted peer, a forged header neither escapes the bucket nor reaches the audit log.
	e := newEnv(t, envOpts{limits: limits})
	got := []int{login(e, "10.1.1.1"), login(e, "10.2.2.2"), login(e, "10.3.3.3")}
	if got[2] != 429 {
		t.Errorf("forged X-Forwarded-For escaped the bucket: %v", got)
	}
	var evs []account.AuditEvent
	e.store.View(context.Background(), func(tx account.Tx) error {
		o, _ := tx.OrgBySlug(context.Background(), "metro")
		evs, _ = tx.AuditEvents(context.Background(), o.ID, account.AuditFilter{Action: account.ActionLoginFailed, Limit: 10})
		return nil
	})
	for _, ev := range evs {
		if ev.IP != "127.0.0.1" {
			t.Errorf("audit IP %q from a forged header", ev.IP)
		}
	}
	// Behind a trusted proxy, each client has its own bucket; garbage is ignored.
	e = newEnv(t, envOpts{limits: limits, proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	got = []int{login(e, "203.0.113.7"), login(e, "203.0.113.7"), login(e, "203.0.113.7"), login(e, "198.51.100.9")}
	if got[2] != 429 || got[3] == 429 {
		t.Errorf("trusted proxy: %v, want the third from one client throttled and another client served", got)
	}
	if st := login(e, "not-an-ip, <script>"); st == 500 {
		t.Errorf("garbage X-Forwarded-For: %d", st)
	}
}
