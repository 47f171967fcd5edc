package mail_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/mail"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var allTemplates = []string{
	account.TemplateReset, account.TemplateWelcome, account.TemplateSSOReminder,
	account.TemplatePasswordChanged, account.TemplateEmailChanged,
}

// fixture fills every field, so that a template showing one it should not
// (a link in a notice) is caught.
var fixture = account.MessageData{
	OrgName:     "Metro Fire",
	OrgSlug:     "metro-fire",
	UserName:    "Ann Lee",
	Email:       "ann@example.org",
	Link:        "https://id.example.org/o/metro-fire/reset-password?token=q3Vx-Z9_abcDEF",
	Code:        "04718295",
	ExpiresAt:   time.Date(2025, 3, 4, 6, 6, 7, 0, time.UTC),
	SSOProvider: "Okta",
	SSOLoginURL: "https://metrofire.okta.example/",
	SignInURL:   "https://id.example.org/o/metro-fire/sign-in",
	OldEmail:    "ann@old.example.org",
	NewEmail:    "ann@example.org",
}

func newRenderer(t testing.TB) *mail.Renderer {
	t.Helper()
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	return r
}

func render(t *testing.T, r *mail.Renderer, name string, d account.MessageData) (subject, text, html string) {
	t.Helper()
	subject, text, html, err := r.Render(name, d)
	if err != nil {
		t.Fatalf("Render(%s): %v", name, err)
	}
	return subject, text, html
}

func golden(t *testing.T, file, got string) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/mail -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-golden +got); if intended, run go test ./internal/mail -update:\n%s", path, diff)
	}
}

func TestRenderer_Golden(t *testing.T) {
	r := newRenderer(t)
	for _, name := range allTemplates {
		t.Run(name, func(t *testing.T) {
			subject, text, html := render(t, r, name, fixture)
			golden(t, name+".txt", "Subject: "+subject+"\n\n"+text)
			golden(t, name+".html", html)
		})
	}
}

func TestRenderer_Content(t *testing.T) {
	r := newRenderer(t)
	const expiry = "06:06 UTC on Tuesday 4 March 2025"
	tests := []struct {
		name    string
		subject string
		want    []string // in text and HTML
		notWant []string // in neither
	}{
		{account.TemplateReset, "Reset your Metro Fire password",
			[]string{fixture.Link, fixture.Code, expiry, "Ann Lee"}, []string{fixture.SSOLoginURL}},
		{account.TemplateWelcome, "Welcome to Metro Fire: choose your password",
			[]string{fixture.Link, fixture.Code, expiry, "hoose your password"}, []string{fixture.SSOLoginURL}},
		{account.TemplateSSOReminder, "How to sign in to Metro Fire",
			[]string{"Okta", fixture.SSOLoginURL}, []string{fixture.Link, "token=", fixture.Code}},
		{account.TemplatePasswordChanged, "Your Metro Fire password was changed",
			[]string{"ann@example.org", "contact your administrator"}, []string{"http", fixture.Code}},
		{account.TemplateEmailChanged, "The email address of your Metro Fire account was changed",
			[]string{fixture.OldEmail, fixture.NewEmail}, []string{"http", fixture.Code}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subject, text, html := render(t, r, tt.name, fixture)
			if subject != tt.subject {
				t.Errorf("subject = %q, want %q", subject, tt.subject)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("text lacks %q:\n%s", w, text)
				}
				if !strings.Contains(html, strings.ReplaceAll(w, "&", "&amp;")) {
					t.Errorf("HTML lacks %q:\n%s", w, html)
				}
			}
			for _, nw := range tt.notWant {
				// A notice's HTML may name no link at all; the layout has none.
				if strings.Contains(text, nw) || strings.Contains(html, nw) {
					t.Errorf("message contains %q, which it must not", nw)
				}
			}
		})
	}
}

func TestRenderer_SSOWithoutLoginURL(t *testing.T) {
	r := newRenderer(t)
	d := fixture
	d.SSOProvider, d.SSOLoginURL = "", ""
	_, text, _ := render(t, r, account.TemplateSSOReminder, d)
	if !strings.Contains(text, "single sign-on") || !strings.Contains(text, d.SignInURL) || strings.Contains(text, d.Link) {
		t.Errorf("SSO reminder without provider or login URL:\n%s", text)
	}
}

func TestRenderer_HeaderInjection(t *testing.T) {
	r := newRenderer(t)
	for _, evil := range []string{
		"Metro Fire\r\nBcc: mallory@evil.example",
		"Metro Fire\nBcc: mallory@evil.example",
		"Metro Fire\rBcc: mallory@evil.example",
		"Metro Fire\u2028Bcc: mallory@evil.example",
		"Metro Fire\u0085Bcc: mallory@evil.example",
		"Metro\x00Fire\tX",
	} {
		d := fixture
		d.OrgName, d.UserName = evil, evil
		for _, name := range allTemplates {
			subject, _, _ := render(t, r, name, d)
			if strings.ContainsFunc(subject, func(c rune) bool { return c < ' ' || c == 0x7f || c == 0x85 || c == 0x2028 }) {
				t.Errorf("Render(%s, org %q) subject %q holds a control character", name, evil, subject)
			}
		}
	}
}

func TestRenderer_HTMLEscapes(t *testing.T) {
	r := newRenderer(t)
	d := fixture
	d.UserName = `<script>alert(1)</script>`
	d.Link = "javascript:alert(1)"
	_, _, html := render(t, r, account.TemplateReset, d)
	if strings.Contains(html, "<script>") || strings.Contains(html, `href="javascript:`) {
		t.Errorf("HTML not escaped:\n%s", html)
	}
}

func TestRenderer_Unknown(t *testing.T) {
	if _, _, _, err := newRenderer(t).Render("no_such", fixture); err == nil {
		t.Error("Render of an unknown template succeeded")
	}
}

func TestHeaderText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Metro Fire", "Metro Fire"},
		{"  Metro \t Fire  ", "Metro Fire"},
		{"Metro\r\nFire", "Metro Fire"},
		{"Metro\u200bFire\u2029", "Metro Fire"},
		{"Zürich Feuerwehr", "Zürich Feuerwehr"},
		{"\r\n", ""},
	}
	for _, tt := range tests {
		if got := mail.HeaderText(tt.in); got != tt.want {
			t.Errorf("HeaderText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
