package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/account"
)

// TestPagesEmails covers the email pieces of the administration pages: the
// Add User checkbox, Send password reset email, the recent emails and the
// Emails page with its development mailbox, its escaping and who sees what.
func TestPagesEmails(t *testing.T) {
	e := newEnv(t, envOpts{})
	tok := e.token()
	admin := signInPage(t, e, "ann@example.org", adminPassword)
	welcomes := func(to string) int {
		n := 0
		for _, m := range e.outbox("metro") {
			if m.To == to && m.Template == account.TemplateWelcome {
				n++
			}
		}
		return n
	}

	// Add User without a password: the checkbox decides the welcome email.
	st, body := admin.get("/o/metro/admin/users/new")
	if st != 200 || !regexp.MustCompile(`<input type="checkbox" id="send_welcome" name="send_welcome" value="1"[^>]* checked>`).MatchString(body) ||
		!strings.Contains(body, `<label for="send_welcome">Send welcome email</label>`) {
		t.Fatalf("Add User: %d, the Send welcome email checkbox is not there and checked:\n%s", st, body)
	}
	st, body, _ = admin.post("/o/metro/admin/users/new", url.Values{"email": {"quiet@example.org"}, "name": {"Quiet New"},
		"roles": {"User"}, "action": {"add"}, "send_welcome_present": {"1"}})
	if st != 200 || !strings.Contains(body, "User created.") || welcomes("quiet@example.org") != 0 {
		t.Errorf("Add User with the box unchecked: %d, %d welcome emails", st, welcomes("quiet@example.org"))
	}
	st, body, _ = admin.post("/o/metro/admin/users/new", url.Values{"email": {"eve@example.org"}, "name": {"Eve <b>bold</b> http://evil.example/x"},
		"roles": {"User"}, "action": {"add"}, "send_welcome_present": {"1"}, "send_welcome": {"1"}})
	if st != 200 || !strings.Contains(body, "A welcome email is on its way to eve@example.org.") || welcomes("eve@example.org") != 1 {
		t.Errorf("Add User with the box checked: %d, %d welcome emails", st, welcomes("eve@example.org"))
	}

	// Send password reset email, then the user page's recent emails.
	id := e.createUser(tok, map[string]any{"email": "cy@example.org", "name": "Cy Target", "kind": "staff", "roles": []string{"User"}, "password": pw})
	up := "/o/metro/admin/users/" + itoa(id)
	st, body, _ = admin.post(up+"/password-reset-email", url.Values{})
	if st != 200 || !strings.Contains(body, "A password reset email is on its way to cy@example.org.") {
		t.Fatalf("Send password reset email: %d\n%s", st, body)
	}
	for _, want := range []string{`<h2 id="recent-emails">Recent emails</h2>`, "<td>Password reset</td>", "<td>cy@example.org</td>", `>Queued</td>`, ">Resend</button>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the user page lacks %q", want)
		}
	}
	if strings.Contains(body, "reset-password?token=") {
		t.Error("the user page shows a message body")
	}
	sso := e.createUser(tok, map[string]any{"email": "ss@example.org", "name": "Ss Sso", "kind": "staff", "auth_source": "sso"})
	if st, body, _ := admin.post("/o/metro/admin/users/"+itoa(sso)+"/password-reset-email", url.Values{}); st != http.StatusConflict ||
		!strings.Contains(body, "No reset email was sent.") {
		t.Errorf("an SSO user's reset email: %d\n%s", st, body)
	}

	// The Emails page: the development mailbox for an org.manage holder,
	// the body escaped, only Latchkey's own links clickable.
	st, body = admin.get("/o/metro/admin/emails")
	if st != 200 || !strings.Contains(body, "No SMTP server is configured: messages stay here and are not sent.") ||
		!strings.Contains(body, "<summary>Show message</summary>") {
		t.Fatalf("Emails: %d\n%s", st, body)
	}
	if !regexp.MustCompile(`<a href="http://127\.0\.0\.1/o/metro/reset-password\?token=lkr_[A-Za-z0-9_-]{43}" rel="noreferrer">`).MatchString(body) {
		t.Error("the reset link in the shown body is not a link")
	}
	if !strings.Contains(body, "Eve &lt;b&gt;bold&lt;/b&gt;") || strings.Contains(body, "<b>bold</b>") || strings.Contains(body, `href="http://evil.example`) {
		t.Error("a user's name in a shown body is not escaped, or its URL is a link")
	}
	// Filters.
	if st, body = admin.get("/o/metro/admin/emails?user_id=" + itoa(id) + "&status=queued"); st != 200 ||
		!strings.Contains(body, "cy@example.org") || strings.Contains(body, "eve@example.org") {
		t.Errorf("filtered by user: %d", st)
	}
	if st, body = admin.get("/o/metro/admin/emails?user_id=abc"); st != 422 || !strings.Contains(body, "Enter a user ID") {
		t.Errorf("a bad user ID filter: %d", st)
	}
	if st, _ = admin.get("/o/metro/admin/emails?status=lost"); st != 422 {
		t.Errorf("a bad status filter: %d", st)
	}
	if st, body = admin.get("/o/metro/admin/emails?status=sent"); st != 200 || !strings.Contains(body, "No emails match.") {
		t.Errorf("nothing sent: %d", st)
	}

	// Resend from the Emails page keeps the filters; a fresh link is issued.
	_, old, _ := e.lastLink("cy@example.org")
	_, body = admin.get("/o/metro/admin/emails?user_id=" + itoa(id))
	ids := regexp.MustCompile(`action="/o/metro/admin/emails/(\d+)/resend"`).FindStringSubmatch(body)
	if ids == nil {
		t.Fatal("no Resend on the Emails page")
	}
	res, err := postNoFollow(admin, "/o/metro/admin/emails/"+ids[1]+"/resend", url.Values{"filter_user_id": {itoa(id)}})
	if err != nil || res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/o/metro/admin/emails?user_id="+itoa(id) {
		t.Fatalf("Resend: %v %v", res, err)
	}
	if _, fresh, _ := e.lastLink("cy@example.org"); fresh == old {
		t.Error("Resend kept the link")
	}
	if _, body = admin.get("/o/metro/admin/emails?user_id=" + itoa(id)); !strings.Contains(body, "Sent again.") {
		t.Error("no Sent again. notice after Resend")
	}
	// From a user's page, back to it.
	st, body, _ = admin.post("/o/metro/admin/emails/"+ids[1]+"/resend", url.Values{"from": {"user"}, "user_id": {itoa(id)}})
	if st != 200 || !strings.Contains(body, "Sent again.") || !strings.Contains(body, "<h1>Cy Target</h1>") {
		t.Errorf("Resend from the user page: %d", st)
	}
	if st, _, _ = admin.post("/o/metro/admin/emails/999999/resend", url.Values{}); st != 404 {
		t.Errorf("Resend of no entry: %d", st)
	}

	// A Community Manager sees residents' emails only, never a body; a user
	// without a read permission is refused.
	e.createUser(tok, map[string]any{"email": "re@example.org", "name": "Re Sident", "kind": "resident", "password": pw})
	e.createUser(tok, map[string]any{"email": "cm@example.org", "name": "Cm", "kind": "staff", "roles": []string{"Community Manager"}, "password": pw})
	e.forgot("re@example.org")
	cm := signInPage(t, e, "cm@example.org", pw)
	st, body = cm.get("/o/metro/admin/emails")
	if st != 200 || !strings.Contains(body, "re@example.org") || strings.Contains(body, "cy@example.org") ||
		strings.Contains(body, "Show message") || strings.Contains(body, "No SMTP server") || !strings.Contains(body, `>Emails</a>`) {
		t.Errorf("a Community Manager's Emails page: %d\n%s", st, body)
	}
	plain := signInPage(t, e, "cy@example.org", pw)
	if st, _ = plain.get("/o/metro/admin/emails"); st != http.StatusForbidden {
		t.Errorf("a user without a read permission: %d", st)
	}
	if _, body = plain.get("/o/metro/account"); strings.Contains(body, "/admin/emails") {
		t.Error("the navigation offers Emails to a user without a read permission")
	}
}

// postNoFollow posts a form with the CSRF token and returns the redirect.
func postNoFollow(p *pc, path string, v url.Values) (*http.Response, error) {
	u, _ := url.Parse(p.e.ts.URL)
	for _, c := range p.c.Jar.Cookies(u) {
		if c.Name == "latchkey_csrf" {
			v.Set("csrf_token", c.Value)
		}
	}
	c := *p.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.PostForm(p.e.ts.URL+path, v)
	if err == nil {
		res.Body.Close()
	}
	return res, err
}
