package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser_AdminUsers drives the administration pages as an administrator
// does (PRODUCT.md flows 1, 7, 8, 9): find a user with the basic filter and
// with the advanced filters, page through the list, reset a password with
// Edit → Password → Save (and the user signs in with it in a second browser
// context), delete with the confirmation, add users (one with a temporary
// password shown once), and create a role on the Roles page and assign it.
func TestBrowser_AdminUsers(t *testing.T) {
	requireChromium(t)
	srv := mustServe(t)
	orgPath := "/o/default/"
	usersPath, communityPath, rolesPath := orgPath+"admin/users", orgPath+"community/users", orgPath+"admin/roles"

	// Data, through the JSON API as the first administrator.
	api := newAdminAPI(t, srv)
	for i := 1; i <= 30; i++ {
		api.createUser(t, fmt.Sprintf(`{"email":"staff%02d@example.org","name":"Staff Person %02d","kind":"staff","roles":["User"]}`, i, i))
	}
	for i := 1; i <= 3; i++ {
		api.createUser(t, fmt.Sprintf(`{"email":"resident%d@example.org","name":"Rhea Resident %d","kind":"resident","roles":["User"]}`, i, i))
	}
	quentin := api.createUser(t, `{"email":"quentin.finder@example.org","name":"Quentin Finder","kind":"staff","roles":["User"]}`)
	api.createUser(t, `{"email":"petra@adv.example.org","name":"Petra Advanced","kind":"staff","roles":["User"]}`)
	api.createUser(t, `{"email":"pavel@adv.example.org","name":"Pavel Active","kind":"staff","roles":["User"],"password":"Pavel-Has-A-Password-1"}`)
	api.createUser(t, `{"email":"ned@example.org","name":"Ned Password","kind":"staff","roles":["User"]}`)
	api.createUser(t, `{"email":"dora@example.org","name":"Dora Delete","kind":"staff","roles":["User"]}`)
	api.createUser(t, `{"email":"rolf@example.org","name":"Rolf Role","kind":"staff","roles":["User"]}`)
	// 37 staff users: two pages of 25.

	b := newBrowser(t, srv)
	b.navigate("open the sign-in page", srv.SignInURL)
	b.fill("enter the administrator's password", "Email", adminEmail, "Password", newPassword)
	b.submit("sign in as the administrator", button("Sign in"))
	b.expectPath("after signing in", orgPath, orgPath+"account")

	// The navigation leads to Users; the list pages.
	b.submit("open Users from the navigation", `//nav//a[normalize-space(.)='Users']`)
	b.expectPath("the users list", usersPath)
	b.do("the users list",
		chromedp.WaitVisible(`//h1[normalize-space(.)='Users']`),
		chromedp.WaitVisible(inputLabelled("Search")+`[@placeholder='ID, email or name']`),
		chromedp.WaitVisible(button("Search")),
		chromedp.WaitVisible(`//a[normalize-space(.)='Add User']`),
		chromedp.WaitVisible(`//table/caption`),
		chromedp.WaitVisible(`//th[@scope='col'][normalize-space(.)='Actions']`),
		chromedp.WaitVisible(`//a[normalize-space(.)='Next page']`),
	)
	b.expectNoText("the first page", "Staff Person 30")
	b.expectNoText("the first page has no residents", "Rhea Resident")
	b.screenshot("users")
	b.submit("open the next page", `//a[normalize-space(.)='Next page']`)
	b.waitText("the second page", "Staff Person 30")
	b.expectNoText("the second page", "Staff Person 01")
	b.do("the second page links back", chromedp.WaitVisible(`//a[normalize-space(.)='First page']`))
	b.submit("back to the first page", `//a[normalize-space(.)='First page']`)
	b.waitText("the first page again", "Staff Person 01")

	// The basic filter: one box for ID, email or name.
	b.fill("search for a name part", "Search", "finder")
	b.submit("search", button("Search"))
	b.waitText("the search result", "quentin.finder@example.org")
	b.expectNoText("the search result", "Staff Person 01")
	b.screenshot("search")
	b.fill("search for an ID", "Search", fmt.Sprint(quentin))
	b.submit("search by ID", button("Search"))
	b.waitText("the search by ID", "quentin.finder@example.org")
	b.fill("search for nobody", "Search", "no-such-person-%_'")
	b.submit("search for nobody", button("Search"))
	b.waitText("an empty result", "No users match.")

	// The advanced filters, behind a disclosure, and Apply.
	b.navigate("open the users list", srv.BaseURL+usersPath)
	b.do("open the advanced filters",
		chromedp.Click(`//summary[normalize-space(.)='Advanced filters']`),
		chromedp.WaitVisible(inputLabelled("Name")),
		chromedp.WaitVisible(inputLabelled("ID")),
		chromedp.WaitVisible(selectLabelled("Role")),
	)
	b.fill("filter by email", "Email", "adv.example")
	b.choose("filter by status", "Status", "invited")
	b.screenshot("advanced-filters")
	b.submit("apply the filters", button("Apply"))
	b.waitText("the filtered list", "petra@adv.example.org")
	b.expectNoText("the filtered list: an active user", "pavel@adv.example.org")
	b.expectNoText("the filtered list: another email", "quentin.finder@example.org")
	b.do("the filters stay open and filled",
		chromedp.WaitVisible(`//details[@open]`+inputLabelled("Email")+`[@value='adv.example']`))
	b.screenshot("filtered")

	// Flow 1: Edit → Password → Save, then the user signs in with it.
	b.findUser("find Ned", "ned@example.org")
	b.submit("click Edit in Ned's row", rowAction("ned@example.org", "Edit"))
	b.expectPathMatch("Ned's page", `^`+regexp.QuoteMeta(usersPath)+`/\d+$`)
	b.do("Ned's page",
		chromedp.WaitVisible(`//h1[normalize-space(.)='Ned Password']`),
		chromedp.WaitVisible(`//h2[normalize-space(.)='Sign-in status']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='Status']/following-sibling::dd[1][normalize-space(.)='Invited']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='Locked until']/following-sibling::dd[1][normalize-space(.)='Not locked']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='Sign-in method']/following-sibling::dd[1][normalize-space(.)='Password']`),
		chromedp.WaitVisible(inputLabelled("Password")+`[@type='password'][@autocomplete='new-password']`),
		chromedp.WaitVisible(button("Disable")),
	)
	nedPage := b.location("Ned's page")
	b.screenshot("user")
	b.fill("type a password with a trailing space", "Password", "Ned-New-Secret-77 ")
	b.submit("save the spaced password", button("Save"))
	b.waitText("the refusal", "starts or ends with a space")
	b.fill("type the new password", "Password", "Ned-New-Secret-77")
	b.submit("save", button("Save"))
	b.expectPath("after saving", nedPage.Path)
	b.do("the confirmation", chromedp.WaitVisible(`//*[@role='status'][normalize-space(.)='Changes saved.']`))
	b.do("the status follows", chromedp.WaitVisible(`//dt[normalize-space(.)='Status']/following-sibling::dd[1][normalize-space(.)='Active']`))
	b.screenshot("saved")

	ned := b.secondContext()
	ned.navigate("Ned opens the sign-in page", srv.SignInURL)
	ned.fill("Ned enters the new password", "Email", "ned@example.org", "Password", "Ned-New-Secret-77")
	ned.submit("Ned signs in", button("Sign in"))
	ned.expectPath("Ned is signed in", orgPath, orgPath+"account")
	ned.waitText("Ned's landing page", "ned@example.org")
	ned.expectNoText("Ned's navigation", "Community users")
	ned.screenshot("ned-signed-in")
	// Ned holds no permission: the users list is refused, in his own context.
	ned.navigateStatus("Ned opens the users list", srv.BaseURL+usersPath, http.StatusForbidden)
	// The administrator's context is still the administrator's.
	b.navigate("the administrator reloads Ned's page", nedPage.String())
	b.waitText("still the administrator", "Sign-in status")

	// Flow 8: delete after "Are you sure?".
	b.findUser("find Dora", "dora@example.org")
	b.submit("click Delete in Dora's row", rowAction("dora@example.org", "Delete"))
	b.do("the question", chromedp.WaitVisible(`//p[normalize-space(.)='Are you sure you want to delete Dora Delete?']`),
		chromedp.WaitVisible(`//a[normalize-space(.)='Cancel']`))
	b.screenshot("delete")
	b.submit("confirm", button("Delete"))
	b.expectPath("after deleting", usersPath)
	b.do("the notice", chromedp.WaitVisible(`//*[@role='status'][normalize-space(.)='Dora Delete was deleted.']`))
	b.expectNoText("Dora is gone", "dora@example.org")
	b.fill("search for Dora", "Search", "dora")
	b.submit("search for Dora", button("Search"))
	b.waitText("Dora is not found", "No users match.")

	// Flow 7: Add User.
	b.navigate("open the users list", srv.BaseURL+usersPath)
	b.submit("click Add User", `//a[normalize-space(.)='Add User']`)
	b.expectPath("the Add User page", usersPath+"/new")
	b.do("the Add User form",
		chromedp.WaitVisible(selectLabelled("Role")),
		chromedp.WaitVisible(button("Create User and Set Temporary Password")),
	)
	b.waitText("the password hint", "Leave empty to send an invitation")
	b.fill("fill in the new user", "Email", "ann.added@example.org", "Name", "Ann Added", "Password", "Velvet-Orbit-Lantern-55")
	b.choose("choose the role", "Role", "User")
	b.screenshot("add-user")
	b.submit("add the user", button("Add User"))
	b.expectPathMatch("the new user's page", `^`+regexp.QuoteMeta(usersPath)+`/\d+$`)
	b.do("the new user's page",
		chromedp.WaitVisible(`//h1[normalize-space(.)='Ann Added']`),
		chromedp.WaitVisible(`//*[@role='status'][normalize-space(.)='User created.']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='Status']/following-sibling::dd[1][normalize-space(.)='Active']`),
	)
	// The same email again: refused next to the form, which keeps the values.
	b.navigate("open Add User again", srv.BaseURL+usersPath+"/new")
	b.fill("fill in a taken email", "Email", "ann.added@example.org", "Name", "Ann Again")
	b.submit("add the user again", button("Add User"))
	b.do("the refusal keeps the form", chromedp.WaitVisible(`//*[@role='alert']`),
		chromedp.WaitVisible(inputLabelled("Name")+`[@value='Ann Again']`))

	// Flow 2 for a new person: the temporary password is shown once.
	b.navigate("open Add User", srv.BaseURL+usersPath+"/new")
	b.fill("fill in a user with a temporary password", "Email", "tim.temp@example.org", "Name", "Tim Temporary")
	b.submit("create with a temporary password", button("Create User and Set Temporary Password"))
	b.waitText("are you sure?", "Are you sure? Create this user and set a temporary password for them?")
	b.waitText("the values to confirm", "tim.temp@example.org")
	b.submit("confirm", button("Confirm"))
	b.waitText("the warning", "This temporary password is shown only once.")
	temp := b.text("the temporary password", `//code`)
	if len(temp) < 12 || strings.ContainsAny(temp, " \n") {
		t.Fatalf("the temporary password shown is %q", temp)
	}
	b.screenshot("temporary-password")
	b.submit("go to the user's page", `//a[starts-with(normalize-space(.), 'Go to Tim Temporary')]`)
	b.do("Tim's page", chromedp.WaitVisible(`//dt[normalize-space(.)='Status']/following-sibling::dd[1][normalize-space(.)='Force Password Reset']`))
	b.expectNoText("the password is not shown again", temp)
	tim := b.secondContext()
	tim.navigate("Tim opens the sign-in page", srv.SignInURL)
	tim.fill("Tim enters the temporary password", "Email", "tim.temp@example.org", "Password", temp)
	tim.submit("Tim signs in", button("Sign in"))
	tim.expectPath("Tim must choose a password", orgPath+"update-password")

	// Flow 9: create a role on the Roles page, and assign it.
	b.submit("open Roles from the navigation", `//nav//a[normalize-space(.)='Roles']`)
	b.expectPath("the Roles page", rolesPath)
	const create = `//form[.//button[normalize-space(.)='Create role']]`
	b.do("the Roles page",
		chromedp.WaitVisible(`//table//td[normalize-space(.)='Community Manager']`),
		chromedp.WaitVisible(create+`//fieldset[legend[normalize-space(.)='Staff users']]`+inputLabelled("users.read")),
		chromedp.WaitVisible(create+`//fieldset[legend[normalize-space(.)='Organization']]`+inputLabelled("roles.manage")),
	)
	b.do("fill in the new role",
		chromedp.SendKeys(create+inputLabelled("Name"), "Dispatcher"),
		chromedp.Click(create+inputLabelled("users.read")),
		chromedp.Click(create+inputLabelled("users.update")),
	)
	b.screenshot("roles")
	b.submit("create the role", create+button("Create role"))
	b.expectPath("after creating the role", rolesPath)
	b.do("the new role",
		chromedp.WaitVisible(`//*[@role='status'][normalize-space(.)='Role Dispatcher created.']`),
		chromedp.WaitVisible(`//tr[td[normalize-space(.)='Dispatcher']]/td[normalize-space(.)='users.read, users.update']`),
	)

	b.findUser("find Rolf", "rolf@example.org")
	b.submit("click Edit in Rolf's row", rowAction("rolf@example.org", "Edit"))
	b.choose("choose the new role", "Role", "Dispatcher")
	b.submit("save the role", button("Save"))
	b.do("Rolf holds the role",
		chromedp.WaitVisible(`//*[@role='status'][normalize-space(.)='Changes saved.']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='Roles']/following-sibling::dd[1][normalize-space(.)='Dispatcher']`),
		chromedp.WaitReady(selectLabelled("Role")+`/option[@selected][normalize-space(.)='Dispatcher']`),
	)
	b.screenshot("role-assigned")

	// The role filter finds him; the role cannot be deleted while he holds it.
	b.navigate("open the users list", srv.BaseURL+usersPath)
	b.do("open the advanced filters", chromedp.Click(`//summary[normalize-space(.)='Advanced filters']`))
	b.choose("filter by role", "Role", "Dispatcher")
	b.submit("apply the role filter", button("Apply"))
	b.waitText("the role filter", "rolf@example.org")
	b.expectNoText("the role filter", "ned@example.org")
	b.navigate("open Roles", srv.BaseURL+rolesPath)
	b.submit("delete the role in use", `//section[h2[normalize-space(.)='Dispatcher']]`+button("Delete"))
	b.waitText("the role is in use", "Users still hold this role")

	// The community list shows residents only, under its own paths.
	b.submit("open Community users", `//nav//a[normalize-space(.)='Community users']`)
	b.expectPath("the community list", communityPath)
	b.waitText("the residents", "resident3@example.org")
	b.expectNoText("no staff in the community list", "staff01@example.org")
	b.do("community links stay under community/users",
		chromedp.WaitVisible(`//a[@aria-label='Edit'][starts-with(@href, '`+communityPath+`/')]`))
	b.screenshot("community")
}

// selectLabelled selects the select whose <label for=...> reads label.
func selectLabelled(label string) string {
	return fmt.Sprintf(`//select[@id=//label[normalize-space(.)=%s]/@for]`, xpathString(label))
}

// rowAction selects the link labelled action (Edit, Delete) in the table row
// of the user with email.
func rowAction(email, action string) string {
	return fmt.Sprintf(`//tr[td[normalize-space(.)=%s]]//a[@aria-label=%s]`, xpathString(email), xpathString(action))
}

// findUser opens the users list with a basic search for q.
func (b *browser) findUser(step, q string) {
	b.t.Helper()
	b.navigate(step, b.srv.BaseURL+"/o/default/admin/users?"+url.Values{"q": {q}}.Encode())
	b.waitText(step, q)
}

// choose picks the option of value in the select labelled label.
func (b *browser) choose(step, label, value string) {
	b.t.Helper()
	sel := selectLabelled(label)
	b.do(step, chromedp.WaitVisible(sel), chromedp.SetValue(sel, value))
}

// text returns the visible text of the first element sel selects.
func (b *browser) text(step, sel string) string {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		b.fail(step, err)
	}
	return strings.TrimSpace(s)
}

// expectNoText checks that the loaded page's visible text lacks text.
func (b *browser) expectNoText(step, text string) {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	has, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.body.innerText.includes(%s)`, jsString(text))))
	if err != nil {
		b.fail(step, err)
	}
	if has {
		b.fail(step, fmt.Errorf("the page shows %q", text))
	}
}

func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// location returns the page's URL.
func (b *browser) location(step string) *url.URL {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.fail(step, err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.fail(step, err)
	}
	return u
}

// expectPathMatch checks the page's path against a regular expression.
func (b *browser) expectPathMatch(step, re string) {
	b.t.Helper()
	if u := b.location(step); !regexp.MustCompile(re).MatchString(u.Path) {
		b.fail(step, fmt.Errorf("the page is %s, want a path matching %s", u, re))
	}
}

// navigateStatus opens u and checks the status of the answer.
func (b *browser) navigateStatus(step, u string, status int) {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.fail(step, err)
	}
	if resp == nil || resp.Status != int64(status) {
		got := int64(0)
		if resp != nil {
			got = resp.Status
		}
		b.fail(step, fmt.Errorf("GET %s: status %d, want %d", u, got, status))
	}
}

// secondContext opens a tab in a new browser context of the same Chromium:
// its own cookies, so another person signs in there. It closes when the test
// ends.
func (b *browser) secondContext() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	// As in newBrowser, the first action creates the tab, which then lives as
	// long as the context of that action: ctx itself.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			b.t.Fatalf("opening a second browser context: %v", err)
		}
	case <-time.After(stepTimeout):
		cancel()
		b.t.Fatalf("a second browser context did not open within %v", stepTimeout)
	}
	return &browser{t: b.t, srv: b.srv, ctx: ctx, deadline: b.deadline, dirs: b.dirs, shots: b.shots + 50}
}

// adminAPI calls the JSON API as the first administrator.
type adminAPI struct {
	base, token string
}

// newAdminAPI signs in with the temporary password that serve printed,
// chooses newPassword, and keeps the bearer token.
func newAdminAPI(t *testing.T, srv *testServer) *adminAPI {
	t.Helper()
	api := &adminAPI{base: srv.BaseURL}
	var ch struct {
		Challenge      string `json:"challenge"`
		ChallengeToken string `json:"challenge_token"`
	}
	api.call(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"org":"default","email":%s,"password":%s}`,
		jsString(adminEmail), jsString(srv.TempPassword)), http.StatusOK, &ch)
	if ch.Challenge != "new_password_required" || ch.ChallengeToken == "" {
		t.Fatalf("signing in with the temporary password: challenge %q, token set %v", ch.Challenge, ch.ChallengeToken != "")
	}
	var sess struct {
		Token string `json:"token"`
	}
	api.call(t, "POST", "/api/v1/auth/new-password", fmt.Sprintf(`{"challenge_token":%s,"new_password":%s}`,
		jsString(ch.ChallengeToken), jsString(newPassword)), http.StatusOK, &sess)
	if sess.Token == "" {
		t.Fatal("POST /api/v1/auth/new-password gave no token")
	}
	api.token = sess.Token
	return api
}

// createUser creates a user from a JSON body and returns its ID.
func (api *adminAPI) createUser(t *testing.T, body string) int64 {
	t.Helper()
	var res struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	api.call(t, "POST", "/api/v1/users", body, http.StatusCreated, &res)
	return res.User.ID
}

func (api *adminAPI) call(t *testing.T, method, path, body string, want int, into any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, api.base+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if api.token != "" {
		req.Header.Set("Authorization", "Bearer "+api.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("%s %s: status %d, decoding: %v", method, path, resp.StatusCode, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s %s: status %d, want %d: %s", method, path, body, resp.StatusCode, want, raw)
	}
	if into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
}
