package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_ForgotPassword drives self-service recovery (PRODUCT.md flows
// 3, 4 and 10) the way a person does it: Forgot your password? on the
// sign-in page → Email → Send password reset email → the answer that never
// says whether the account exists. serve runs without --smtp, so the
// administrator reads the message in the development mailbox on the Emails
// page; the user opens its link, a mismatched confirmation is refused, a
// matching one changes the password, and the new password signs in. Then
// the user's page lists the email with its delivery status, Send password
// reset email queues another and Resend a third.
func TestBrowser_ForgotPassword(t *testing.T) {
	requireChromium(t)
	srv := mustServe(t)
	orgPath := "/o/default/"
	emailsPath := orgPath + "admin/emails"

	api := newAdminAPI(t, srv)
	const patEmail, patOld, patNew = "pat.forgot@example.org", "Pat-Old-Password-31", "Pat-New-Lighthouse-2026"
	pat := api.createUser(t, fmt.Sprintf(`{"email":%s,"name":"Pat Forgot","kind":"staff","roles":["User"],"password":%s}`,
		jsString(patEmail), jsString(patOld)))
	patPath := fmt.Sprintf("%sadmin/users/%d", orgPath, pat)

	// Pat, in a fresh browser: Forgot your password?
	u := newBrowser(t, srv)
	u.navigate("Pat opens the sign-in page", srv.SignInURL)
	u.submit("Pat clicks Forgot your password?", `//a[normalize-space(.)='Forgot your password?']`)
	u.expectPath("the forgot-password page", orgPath+"forgot-password")
	u.do("the forgot-password form", chromedp.WaitVisible(button("Send password reset email")))
	u.fill("Pat types the email", "Email", patEmail)
	u.screenshot("forgot")
	u.submit("Pat sends the reset email", button("Send password reset email"))
	u.waitText("the answer", "If an account with that email exists, we sent it a link to reset the password.")
	u.screenshot("forgot-sent")

	// The administrator, in another context: the development mailbox.
	a := u.secondContext()
	a.signIn("the administrator", adminEmail, newPassword)
	a.submit("open Emails from the navigation", `//nav//a[normalize-space(.)='Emails']`)
	a.expectPath("the Emails page", emailsPath)
	a.waitText("the development-mailbox banner", "No SMTP server is configured: messages stay here and are not sent.")
	a.choose("filter by status", "Status", "queued")
	a.fill("filter by user", "User ID", fmt.Sprint(pat))
	a.submit("apply the filters", button("Apply"))
	row := emailRow(patEmail, "Password reset")
	a.do("Pat's reset email",
		chromedp.WaitVisible(row+`/td[normalize-space(.)='Queued']`),
		chromedp.WaitVisible(row+`//button[normalize-space(.)='Resend']`),
	)
	// The body is behind Show message, in the row after the entry's.
	summary := row + `/following-sibling::tr[1][contains(@class,'email-body')]//summary[normalize-space(.)='Show message']`
	link := row + `/following-sibling::tr[1]//pre//a[contains(@href, '/o/default/reset-password?token=')]`
	a.do("show the message", chromedp.Click(summary), chromedp.WaitVisible(link))
	a.screenshot("dev-mailbox")
	resetURL := a.href("the reset link", link)
	if !strings.HasPrefix(resetURL, srv.BaseURL+"/o/default/reset-password?token=") {
		t.Fatalf("the reset link is %q, want it under %s (the base URL)", resetURL, srv.BaseURL)
	}

	// Pat opens the link: a mismatched confirmation, then a good one.
	u.navigate("Pat opens the link", resetURL)
	u.do("the reset page",
		chromedp.WaitVisible(inputLabelled("New password")),
		chromedp.WaitVisible(inputLabelled("Confirm new password")),
		chromedp.WaitVisible(button("Change password")),
	)
	u.expectRules("the reset page")
	u.fill("Pat mistypes the confirmation", "New password", patNew, "Confirm new password", patNew+"x")
	u.submit("Pat submits the mismatch", button("Change password"))
	u.waitText("the mismatch is refused", "The two passwords do not match.")
	u.screenshot("mismatch")
	u.fill("Pat types the password twice", "New password", patNew, "Confirm new password", patNew)
	u.submit("Pat changes the password", button("Change password"))
	u.waitText("the password is changed", "Your password has been changed.")
	u.screenshot("changed")
	anon := &adminAPI{base: srv.BaseURL}
	anon.call(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"org":"default","email":%s,"password":%s}`,
		jsString(patEmail), jsString(patOld)), http.StatusUnauthorized, nil)

	// The link is used up; the new password signs in.
	u.navigateStatus("Pat opens the used link again", resetURL, http.StatusBadRequest)
	u.waitText("the used link", "This link is not valid")
	u.navigate("Pat opens the sign-in page", srv.SignInURL)
	u.fill("Pat types the new password", "Email", patEmail, "Password", patNew)
	u.submit("Pat signs in", button("Sign in"))
	u.expectPath("Pat is signed in", orgPath, orgPath+"account")
	u.navigate("Pat opens the account page", srv.BaseURL+orgPath+"account")
	u.waitText("Pat's account", patEmail)

	// The user's page: the recent emails, Send password reset email, Resend.
	a.navigate("open Pat's page", srv.BaseURL+patPath)
	recent := `//section[h2[normalize-space(.)='Recent emails']]`
	a.do("Pat's recent emails",
		chromedp.WaitVisible(recent+emailRow(patEmail, "Password reset")),
		chromedp.WaitVisible(button("Send password reset email")),
	)
	a.submit("send a reset email", button("Send password reset email"))
	a.expectPath("after sending", patPath)
	a.do("the notice", chromedp.WaitVisible(notice("A password reset email is on its way to "+patEmail+".")))
	a.do("two reset emails now", chromedp.WaitVisible(`(`+recent+emailRow(patEmail, "Password reset")+`)[2]`))
	a.screenshot("user-emails")
	a.submit("resend the newest", `(`+recent+`//button[normalize-space(.)='Resend'])[1]`)
	a.expectPath("after resending", patPath)
	a.do("sent again", chromedp.WaitVisible(notice("Sent again.")))
	a.do("three reset emails now", chromedp.WaitVisible(`(`+recent+emailRow(patEmail, "Password reset")+`)[3]`))
}

// TestBrowser_ChangePasswordSignsOutOtherDevice signs one user in in two
// browser contexts (two devices); Change Password in one signs the other
// out and keeps this one signed in (PRODUCT.md flow 6).
func TestBrowser_ChangePasswordSignsOutOtherDevice(t *testing.T) {
	requireChromium(t)
	srv := mustServe(t)
	orgPath := "/o/default/"
	accountPath := orgPath + "account"

	api := newAdminAPI(t, srv)
	const email, oldPw, newPw = "robin.devices@example.org", "Robin-Old-Password-77", "Robin-Second-Harbor-88"
	api.createUser(t, fmt.Sprintf(`{"email":%s,"name":"Robin Devices","kind":"staff","roles":["User"],"password":%s}`,
		jsString(email), jsString(oldPw)))

	b := newBrowser(t, srv)
	b.signIn("Robin on the laptop", email, oldPw)
	c := b.secondContext()
	c.signIn("Robin on the phone", email, oldPw)
	c.navigate("the phone opens the account page", srv.BaseURL+accountPath)
	c.expectPath("the phone's account page", accountPath)

	b.navigate("the laptop opens the account page", srv.BaseURL+accountPath)
	b.do("the Change Password form",
		chromedp.WaitVisible(`//h2[normalize-space(.)='Change Password']`),
		chromedp.WaitVisible(inputLabelled("Current password")),
		// Both devices are listed.
		chromedp.WaitVisible(`(//table//button[normalize-space(.)='Sign out'])[2]`),
	)
	b.fill("type the passwords", "Current password", oldPw, "New password", newPw, "Confirm new password", newPw)
	b.screenshot("change-password")
	b.submit("change the password", button("Change Password"))
	b.expectPath("after changing", accountPath)
	b.do("the notice", chromedp.WaitVisible(notice("Your password has been changed. Your other devices were signed out.")))
	b.expectNoElement("one device left", `(//table//button[normalize-space(.)='Sign out'])[2]`)
	b.screenshot("changed")

	c.navigate("the phone reloads the account page", srv.BaseURL+accountPath)
	c.expectPath("the phone is signed out", orgPath+"login")
	c.do("the sign-in form", chromedp.WaitVisible(button("Sign in")))
	c.screenshot("phone-signed-out")

	b.navigate("the laptop reloads the account page", srv.BaseURL+accountPath)
	b.expectPath("the laptop stays signed in", accountPath)
	c.signIn("Robin signs in on the phone with the new password", email, newPw)
}

// signIn signs in on the default organization's sign-in page.
func (b *browser) signIn(step, email, password string) {
	b.t.Helper()
	b.navigate(step+": open the sign-in page", b.srv.SignInURL)
	b.fill(step+": type the credentials", "Email", email, "Password", password)
	b.submit(step+": sign in", button("Sign in"))
	b.expectPath(step+": signed in", "/o/default/", "/o/default/account")
}

// emailRow selects the row of an emails table of the message to to, of the
// template (its human name).
func emailRow(to, template string) string {
	return fmt.Sprintf(`//table[contains(@class,'emails')]//tr[td[normalize-space(.)=%s]][td[normalize-space(.)=%s]]`,
		xpathString(to), xpathString(template))
}

// href returns the absolute address of the link sel selects.
func (b *browser) href(step, sel string) string {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	h, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(
		`(() => { const n = document.evaluate(%s, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue; return n ? n.href : ""; })()`,
		jsString(sel))))
	if err != nil {
		b.fail(step, err)
	}
	if _, perr := url.Parse(h); h == "" || perr != nil {
		b.fail(step, fmt.Errorf("no link %s (href %q)", sel, h))
	}
	return h
}
