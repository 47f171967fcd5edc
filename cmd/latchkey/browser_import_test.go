package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowser_Import drives the Import page as an administrator does
// (PRODUCT.md flow 7): download the CSV template, fill it in, upload it for
// a preview that names the bad row, choose the file again and run the
// import, read the counts, and find the new users on the Users page; one of
// them signs in with the password the file gave.
func TestBrowser_Import(t *testing.T) {
	requireChromium(t)
	srv := mustServe(t)
	orgPath := "/o/default/"
	importPath, usersPath := orgPath+"admin/import", orgPath+"admin/users"
	api := newAdminAPI(t, srv) // the administrator chooses newPassword

	b := newBrowser(t, srv)
	b.navigate("open the sign-in page", srv.SignInURL)
	b.fill("enter the administrator's password", "Email", adminEmail, "Password", newPassword)
	b.submit("sign in as the administrator", button("Sign in"))
	b.expectPath("after signing in", orgPath, orgPath+"account")

	b.submit("open Import from the navigation", `//nav//a[normalize-space(.)='Import']`)
	b.expectPath("the Import page", importPath)
	b.do("the Import page",
		chromedp.WaitVisible(`//h1[normalize-space(.)='Import users']`),
		chromedp.WaitReady(inputLabelled("File")+`[@type='file'][@accept='.csv,.xlsx']`),
		chromedp.WaitVisible(inputLabelled("Write nothing if any row is rejected")+`[@type='checkbox']`),
		chromedp.WaitVisible(button("Preview")),
		chromedp.WaitVisible(`//a[normalize-space(.)='Download template (Excel)'][@href='/api/v1/imports/template.xlsx']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='password_hash']`),
	)
	b.screenshot("import")

	// The CSV template, downloaded by the browser, is the file to fill in.
	header := b.download("download the CSV template", `//a[normalize-space(.)='Download template (CSV)']`)
	header, _, _ = strings.Cut(header, "\r\n")
	if header != "email,name,kind,roles,password,password_hash,send_welcome" {
		t.Fatalf("the CSV template's header row is %q", header)
	}
	file := filepath.Join(t.TempDir(), "users.csv")
	content := header + "\r\n" +
		"ivy.import@example.org,Ivy Import,staff,User,,,false\r\n" +
		"otto.import@example.org,Otto Import,staff,User,Velvet-Orbit-Lantern-77,,\r\n" +
		"not-an-email,Bad Row,staff,User,,,\r\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	// Preview: row by row, the bad row named, nothing written.
	b.do("choose the file", chromedp.SetUploadFiles(inputLabelled("File"), []string{file}))
	b.submit("preview", button("Preview"))
	b.do("the preview",
		chromedp.WaitVisible(`//h1[normalize-space(.)='Import preview']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='To create']/following-sibling::dd[1][normalize-space(.)='2']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='Rejected']/following-sibling::dd[1][normalize-space(.)='1']`),
		chromedp.WaitVisible(`//tr[td[normalize-space(.)='ivy.import@example.org']]/td[normalize-space(.)='Create']`),
		chromedp.WaitVisible(`//tr[td[1][normalize-space(.)='4']][td[normalize-space(.)='not-an-email']]/td[normalize-space(.)='Reject']`),
		chromedp.WaitVisible(`//tr[td[normalize-space(.)='not-an-email']]/td[starts-with(normalize-space(.), 'email: Not an email address')]`),
		chromedp.WaitVisible(button("Run import")),
	)
	b.waitText("the run asks for the file again", "Choose the same file again to run the import.")
	b.screenshot("preview")
	var found struct {
		Users []struct{ Email string } `json:"users"`
	}
	api.call(t, "GET", "/api/v1/users?q=import%40example.org", "", http.StatusOK, &found)
	if len(found.Users) != 0 {
		t.Fatalf("the preview wrote users: %v", found.Users)
	}

	// Run: the same file again, then the counts.
	b.do("choose the file again", chromedp.SetUploadFiles(inputLabelled("File"), []string{file}))
	b.submit("run the import", button("Run import"))
	b.expectPathMatch("the import's page", `^`+regexp.QuoteMeta(importPath)+`/\d+$`)
	b.do("the counts",
		chromedp.WaitVisible(`//*[@role='status'][normalize-space(.)='Import finished.']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='Created']/following-sibling::dd[1][normalize-space(.)='2']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='Unchanged']/following-sibling::dd[1][normalize-space(.)='0']`),
		chromedp.WaitVisible(`//dt[normalize-space(.)='Rejected']/following-sibling::dd[1][normalize-space(.)='1']`),
		chromedp.WaitVisible(`//a[normalize-space(.)='Download rejected rows']`),
	)
	b.screenshot("imported")
	rejected := b.download("download the rejected rows", `//a[normalize-space(.)='Download rejected rows']`)
	if !strings.HasPrefix(rejected, "email,name,kind,roles,send_welcome,problem\r\nnot-an-email,") ||
		!strings.Contains(rejected, "row 4: email: Not an email address") {
		t.Errorf("the rejected rows: %q", rejected)
	}

	api.call(t, "GET", "/api/v1/users?q=import%40example.org", "", http.StatusOK, &found)
	if len(found.Users) != 2 {
		t.Errorf("after the run, the API finds %v", found.Users)
	}

	// The users are on the Users page; Otto signs in with his password.
	b.submit("open Users", `//nav//a[normalize-space(.)='Users']`)
	b.expectPath("the users list", usersPath)
	b.waitText("Ivy is listed", "ivy.import@example.org")
	b.waitText("Otto is listed", "otto.import@example.org")
	b.expectNoText("the bad row is not", "not-an-email")
	b.screenshot("users")
	otto := b.secondContext()
	otto.navigate("Otto opens the sign-in page", srv.SignInURL)
	otto.fill("Otto enters the imported password", "Email", "otto.import@example.org", "Password", "Velvet-Orbit-Lantern-77")
	otto.submit("Otto signs in", button("Sign in"))
	otto.expectPath("Otto is signed in", orgPath, orgPath+"account")
}

// download clicks the link sel, waits for the browser to save the file and
// returns its contents.
func (b *browser) download(step, sel string) string {
	b.t.Helper()
	dir := b.t.TempDir()
	ctx, cancel := b.stepContext()
	defer cancel()
	progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)})
			return err
		}),
		chromedp.Click(sel),
	)
	if err != nil {
		b.fail(step, err)
	}
	for ev, err := range progress {
		if err != nil {
			b.fail(step, fmt.Errorf("waiting for the download: %w", err))
		}
		switch ev.State {
		case cdpbrowser.DownloadProgressStateCanceled:
			b.fail(step, fmt.Errorf("the download was canceled"))
		case cdpbrowser.DownloadProgressStateCompleted:
			data, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				b.fail(step, err)
			}
			return string(data)
		}
	}
	b.fail(step, fmt.Errorf("waiting for the download: %w", ctx.Err()))
	return ""
}
