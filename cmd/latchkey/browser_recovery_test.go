package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_Recovery drives getting a locked-out user back in (PRODUCT.md
// flows 2, 10 and 11) as an administrator does: the user page shows the
// failed sign-ins and the sessions; Unlock and Sign out everywhere; Set
// Temporary Password → Confirm → the password shown once, and never again on
// reload; the user signs in with it in a second browser context, must choose
// a new password that follows the listed rules, and is signed in. Then the
// Audit page lists the temporary password with the reason typed, the
// Settings page saves a new lockout, and an SSO user's page says where they
// sign in instead of offering a password.
func TestBrowser_Recovery(t *testing.T) {
	requireChromium(t)
	srv := mustServe(t)
	orgPath := "/o/default/"
	auditPath, settingsPath := orgPath+"admin/audit", orgPath+"admin/settings"

	// Data, through the JSON API: Casey has a password, a session (an app
	// signed in) and two failed sign-ins since.
	api := newAdminAPI(t, srv)
	const caseyEmail, caseyPassword = "casey.locked@example.org", "Casey-Old-Password-41"
	casey := api.createUser(t, `{"email":"casey.locked@example.org","name":"Casey Locked","kind":"staff","roles":["User"],"password":"Casey-Old-Password-41"}`)
	var sess struct {
		Token string `json:"token"`
	}
	anon := &adminAPI{base: srv.BaseURL}
	anon.call(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"org":"default","email":%s,"password":%s}`,
		jsString(caseyEmail), jsString(caseyPassword)), http.StatusOK, &sess)
	for i := 0; i < 2; i++ {
		anon.call(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"org":"default","email":%s,"password":"not-it-%d-xxxxxxx"}`,
			jsString(caseyEmail), i), http.StatusUnauthorized, nil)
	}
	api.call(t, "PATCH", "/api/v1/org", `{"sso":{"provider_name":"Entra ID","login_url":"https://sso.example.org/login"}}`, http.StatusOK, nil)
	sam := api.createUser(t, `{"email":"sam.sso@example.org","name":"Sam Single","kind":"staff","roles":["User"],"auth_source":"sso"}`)
	caseyPath := fmt.Sprintf("%sadmin/users/%d", orgPath, casey)

	b := newBrowser(t, srv)
	b.navigate("open the sign-in page", srv.SignInURL)
	b.fill("enter the administrator's password", "Email", adminEmail, "Password", newPassword)
	b.submit("sign in as the administrator", button("Sign in"))
	b.expectPath("after signing in", orgPath, orgPath+"account")

	// "Why can't they log in?": the failures, the session, Unlock.
	b.navigate("open Casey's page", srv.BaseURL+caseyPath)
	b.do("Casey's page",
		chromedp.WaitVisible(`//h1[normalize-space(.)='Casey Locked']`),
		chromedp.WaitVisible(fact("Failed sign-ins", "2")),
		chromedp.WaitVisible(`//h2[normalize-space(.)='Signed-in devices']/following-sibling::table//td[starts-with(normalize-space(.), 'Go-http-client')]`),
		chromedp.WaitVisible(button("Set Temporary Password")),
		chromedp.WaitVisible(button("Sign out everywhere")),
		chromedp.WaitVisible(button("Unlock")),
	)
	b.screenshot("user-with-failures")
	b.fill("type a reason for Unlock", "Reason", "TICKET-7")
	b.submit("unlock", button("Unlock"))
	b.expectPath("after unlocking", caseyPath)
	b.do("unlocked",
		chromedp.WaitVisible(notice("Casey Locked is unlocked.")),
		chromedp.WaitVisible(fact("Failed sign-ins", "0")),
	)
	b.expectNoElement("no Unlock once unlocked", button("Unlock"))

	b.submit("sign out everywhere", button("Sign out everywhere"))
	b.expectPath("after signing out everywhere", caseyPath)
	b.do("signed out everywhere", chromedp.WaitVisible(notice("Casey Locked is signed out everywhere.")))
	b.waitText("no sessions left", "Casey Locked is not signed in anywhere.")
	api.callStatus(t, "GET", "/api/v1/me", sess.Token, http.StatusUnauthorized)

	// Set Temporary Password → are you sure? → Confirm → shown once.
	b.submit("click Set Temporary Password", button("Set Temporary Password"))
	b.waitText("the question", "Set a temporary password for Casey Locked? Their current password stops working and they are signed out everywhere.")
	b.do("the confirmation step",
		chromedp.WaitVisible(button("Confirm")),
		chromedp.WaitVisible(`//a[normalize-space(.)='Cancel'][@href='`+caseyPath+`']`),
	)
	b.fill("type the reason", "Reason", "TICKET-42 locked out at shift start")
	b.screenshot("temp-confirm")
	b.submit("confirm", button("Confirm"))
	b.waitText("the once-only warning", "This temporary password is shown only once. It expires at ")
	temp := b.text("the temporary password", `//code[@id='temporary-password']`)
	if len(temp) < 12 || strings.ContainsAny(temp, " \n") {
		t.Fatalf("the temporary password shown is %q", temp)
	}
	b.screenshot("temp-shown")
	b.submit("back to Casey's page", `//a[normalize-space(.)="Back to Casey Locked's page"]`)
	b.expectPath("Casey's page", caseyPath)
	b.do("the status follows", chromedp.WaitVisible(fact("Status", "Force Password Reset")))
	b.expectNotInHTML("the password is not on the user page", temp)
	b.navigate("reload Casey's page", srv.BaseURL+caseyPath)
	b.do("Casey's page again", chromedp.WaitVisible(fact("Status", "Force Password Reset")))
	b.expectNotInHTML("the password is not on the reloaded page", temp)
	anon.call(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"org":"default","email":%s,"password":%s}`,
		jsString(caseyEmail), jsString(caseyPassword)), http.StatusUnauthorized, nil)

	// Casey, in a browser of their own: the temporary password → Update
	// Password with the rules → a short one fails its rule → a good one.
	c := b.secondContext()
	c.navigate("Casey opens the sign-in page", srv.SignInURL)
	c.fill("Casey enters the temporary password", "Email", caseyEmail, "Password", temp)
	c.submit("Casey signs in", button("Sign in"))
	c.expectPath("Casey must choose a password", orgPath+"update-password")
	c.do("the Update Password page", chromedp.WaitVisible(button("Update Password")))
	c.expectRules("the Update Password page")
	minRule := policyRule(t, srv, "min_length")
	c.fill("Casey types a short password", "New password", "Short-pw-1", "Confirm new password", "Short-pw-1")
	c.submit("Casey submits the short password", button("Update Password"))
	c.do("the failed rule is marked",
		chromedp.WaitVisible(`//ul[@aria-label='Password rules']/li[contains(@class,'failed')][starts-with(normalize-space(.), `+xpathString(minRule)+`)]`))
	c.screenshot("casey-short-password")
	const caseyNew = "Casey-Fresh-Lantern-2026"
	c.fill("Casey types a good password", "New password", caseyNew, "Confirm new password", caseyNew)
	c.submit("Casey updates the password", button("Update Password"))
	c.expectPath("Casey is signed in", orgPath+"account")
	c.waitText("Casey's account", "Your password has been updated.")
	c.waitText("Casey's account", caseyEmail)
	c.screenshot("casey-signed-in")
	b.navigate("reload Casey's page", srv.BaseURL+caseyPath)
	b.do("Casey is active", chromedp.WaitVisible(fact("Status", "Active")))

	// The Audit page: the temporary password with its reason.
	b.submit("open Audit from the navigation", `//nav//a[normalize-space(.)='Audit']`)
	b.expectPath("the Audit page", auditPath)
	b.choose("filter by action", "Action", "user.temporary_password_issued")
	b.fill("filter by target", "Target ID", fmt.Sprint(casey))
	b.submit("apply the filters", button("Apply"))
	row := `//table[contains(@class,'audit')]//tr[td/code[normalize-space(.)='user.temporary_password_issued']]`
	b.do("the event",
		chromedp.WaitVisible(row+`/td/a[normalize-space(.)=`+xpathString(fmt.Sprint(casey))+`][@href='`+caseyPath+`']`),
		chromedp.WaitVisible(row+`//dt[normalize-space(.)='reason:']/following-sibling::dd[1][normalize-space(.)='TICKET-42 locked out at shift start']`),
		chromedp.WaitVisible(row+`/td[normalize-space(.)='success']`),
	)
	b.expectNoElement("only the chosen action", `//table[contains(@class,'audit')]//td/code[normalize-space(.)='user.unlocked']`)
	b.expectNotInHTML("no secret in the audit page", temp)
	b.screenshot("audit")

	// The Settings page: a new lockout.
	b.submit("open Settings from the navigation", `//nav//a[normalize-space(.)='Settings']`)
	b.expectPath("the Settings page", settingsPath)
	b.do("the settings form",
		chromedp.WaitVisible(inputLabelled("Allow self-service password reset")+`[@type='checkbox']`),
		chromedp.WaitVisible(inputLabelled("Minimum length")+`[@value='12']`),
		chromedp.WaitVisible(inputLabelled("SSO sign-in URL")+`[@value='https://sso.example.org/login']`),
	)
	b.fill("type a new lockout", "Failed sign-ins before lockout", "7", "Lockout minutes", "30")
	b.submit("save the settings", button("Save settings"))
	b.expectPath("after saving", settingsPath)
	b.do("saved",
		chromedp.WaitVisible(notice("Settings saved.")),
		chromedp.WaitVisible(inputLabelled("Failed sign-ins before lockout")+`[@value='7']`),
		chromedp.WaitVisible(inputLabelled("Lockout minutes")+`[@value='30']`),
	)
	b.screenshot("settings")
	var org struct {
		Lockout struct {
			MaxFailures int `json:"max_failures"`
			LockMinutes int `json:"lock_minutes"`
		} `json:"lockout"`
	}
	api.call(t, "GET", "/api/v1/org", "", http.StatusOK, &org)
	if org.Lockout.MaxFailures != 7 || org.Lockout.LockMinutes != 30 {
		t.Errorf("after saving, GET /api/v1/org has lockout %+v, want 7 failures and 30 minutes", org.Lockout)
	}

	// An SSO user: where they sign in, and no password button.
	b.navigate("open Sam's page", fmt.Sprintf("%s%sadmin/users/%d", srv.BaseURL, orgPath, sam))
	b.waitText("the SSO sentence", "Sam Single signs in with single sign-on (Entra ID at https://sso.example.org/login); a local password would change nothing.")
	b.expectNoElement("no temporary password for an SSO user", button("Set Temporary Password"))
	b.screenshot("sso-user")
}

// fact selects the value of the term of a <dl> on the page.
func fact(term, value string) string {
	return fmt.Sprintf(`//dt[normalize-space(.)=%s]/following-sibling::dd[1][normalize-space(.)=%s]`, xpathString(term), xpathString(value))
}

// notice selects the page's status message reading text.
func notice(text string) string {
	return fmt.Sprintf(`//*[@role='status'][normalize-space(.)=%s]`, xpathString(text))
}

// expectNotInHTML checks that the page's HTML, hidden parts and attributes
// included, lacks s.
func (b *browser) expectNotInHTML(step, s string) {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	has, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.documentElement.outerHTML.includes(%s)`, jsString(s))))
	if err != nil {
		b.fail(step, err)
	}
	if has {
		b.fail(step, fmt.Errorf("the page's HTML holds %q", s))
	}
}

// expectNoElement checks that the loaded page has no element sel selects.
func (b *browser) expectNoElement(step, sel string) {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(
		`document.evaluate(%s, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`, jsString(sel))))
	if err != nil {
		b.fail(step, err)
	}
	if n != 0 {
		b.fail(step, fmt.Errorf("the page has %v elements %s", n, sel))
	}
}

// policyRule is the message of a rule of the default organization's
// password policy.
func policyRule(t *testing.T, srv *testServer, rule string) string {
	t.Helper()
	var policy struct {
		Rules []struct{ Rule, Message string } `json:"rules"`
	}
	(&adminAPI{base: srv.BaseURL}).call(t, "GET", "/api/v1/orgs/default/password-policy", "", http.StatusOK, &policy)
	for _, r := range policy.Rules {
		if r.Rule == rule {
			return r.Message
		}
	}
	t.Fatalf("the password policy has no rule %q: %+v", rule, policy.Rules)
	return ""
}

// callStatus sends a request with the bearer token and checks only the status.
func (api *adminAPI) callStatus(t *testing.T, method, path, token string, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, api.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
}
