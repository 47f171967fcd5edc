package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive a real Chromium with chromedp against "latchkey
// serve" on 127.0.0.1:0 with a fresh SQLite database, the way a person uses
// the web pages: fields are found by their <label>, buttons by their text,
// and every step waits for a condition, never for a fixed time.
//
// Set LATCHKEY_SCREENSHOTS=DIR to keep a screenshot of every step in DIR.

const (
	chromiumPath   = "/usr/bin/chromium"
	browserTimeout = 60 * time.Second // the whole test
	stepTimeout    = 20 * time.Second // one step: a page load, a wait

	adminEmail  = "admin@localhost"
	newPassword = "correct-horse-battery-9"
	wrongLogin  = "The email or password is incorrect."
)

// TestBrowser_FirstRun signs in as the administrator that serve creates on an
// empty database, replaces the temporary password, signs out and signs in
// again with the new password.
func TestBrowser_FirstRun(t *testing.T) {
	requireChromium(t)
	srv := mustServe(t)
	b := newBrowser(t, srv)

	signIn, err := url.Parse(srv.SignInURL)
	if err != nil {
		t.Fatalf("sign-in URL %q: %v", srv.SignInURL, err)
	}
	loginPath := signIn.Path                          // /o/default/login
	orgPath := strings.TrimSuffix(loginPath, "login") // /o/default/
	updatePath, accountPath := orgPath+"update-password", orgPath+"account"

	// The sign-in page.
	b.do("open the sign-in page",
		chromedp.Navigate(srv.SignInURL),
		chromedp.WaitVisible(inputLabelled("Email")),
		chromedp.WaitVisible(inputLabelled("Password")),
		chromedp.WaitVisible(button("Sign in")),
	)
	b.screenshot("sign-in")

	// A wrong password: the one generic message, and still the sign-in page.
	b.fill("enter a wrong password", "Email", adminEmail, "Password", "not-the-password-42")
	b.submit("submit a wrong password", button("Sign in"))
	b.waitText("the wrong-password message", wrongLogin)
	b.expectPath("after a wrong password", loginPath)
	b.screenshot("wrong-password")

	// The temporary password leads to the update-password page.
	b.fill("enter the temporary password", "Email", adminEmail, "Password", srv.TempPassword)
	b.submit("sign in with the temporary password", button("Sign in"))
	b.expectPath("after signing in with the temporary password", updatePath)
	b.do("the update-password page",
		chromedp.WaitVisible(button("Update Password")),
		chromedp.WaitVisible(inputLabelled("New password")),
		chromedp.WaitVisible(inputLabelled("Confirm new password")),
		// The password rules, as a list outside the navigation.
		chromedp.WaitVisible(`(//body//li[not(ancestor::nav)])[1]`),
	)
	b.expectRules("the update-password page")
	b.screenshot("update-password")

	b.fill("enter a new password", "New password", newPassword, "Confirm new password", newPassword)
	b.submit("update the password", button("Update Password"))
	b.expectPath("after updating the password", accountPath)
	b.waitText("the account page", adminEmail)
	b.screenshot("account")

	// Sign out with the button in the page header (the first one; the list of
	// signed-in devices has more).
	b.submit("sign out", `(`+button("Sign out")+`)[1]`)
	b.expectPath("after signing out", loginPath)
	b.do("the sign-in page after signing out", chromedp.WaitVisible(button("Sign in")))
	b.screenshot("signed-out")

	// The new password works.
	b.fill("enter the new password", "Email", adminEmail, "Password", newPassword)
	b.submit("sign in with the new password", button("Sign in"))
	b.expectPath("after signing in with the new password", accountPath, orgPath)
	b.screenshot("signed-in")
	b.navigate("open the account page", srv.BaseURL+accountPath)
	b.expectPath("the account page", accountPath)
	b.waitText("the account page", adminEmail)
	b.screenshot("account-again")
}

// requireChromium skips the test, loudly, when Chromium is missing; under
// CI=true, where every suite must run, it fails instead.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (%v), and CI=true requires the browser tests: apt-get install -y chromium", chromiumPath, err)
		}
		t.Skipf("*** %s is not installed: browser test SKIPPED (apt-get install -y chromium) ***", chromiumPath)
	}
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("*** -short: browser test SKIPPED ***")
	}
}

// testServer is a "latchkey serve" running in this process.
type testServer struct {
	BaseURL      string // http://127.0.0.1:PORT
	SignInURL    string // http://127.0.0.1:PORT/o/default/login
	TempPassword string // the first administrator's temporary password
	Stdout       *lineBuffer
	Stderr       *lineBuffer
}

// mustServe runs serve on 127.0.0.1:0 with a new SQLite database and an empty
// environment, waits for the lines that announce the address and the first
// administrator, and stops the server when the test ends.
func mustServe(t *testing.T) *testServer {
	t.Helper()
	srv := &testServer{Stdout: newLineBuffer(), Stderr: newLineBuffer()}
	db := "sqlite:" + filepath.Join(t.TempDir(), "lk.db")
	getenv := func(string) string { return "" } // no LATCHKEY_* from the environment

	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	var runErr error
	go func() {
		defer close(exited)
		runErr = run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, getenv, srv.Stdout, srv.Stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
			if runErr != nil && !errors.Is(runErr, context.Canceled) {
				t.Errorf("serve returned %v\nstderr:\n%s", runErr, srv.Stderr)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("serve did not stop within 15 s of its context ending\nstderr:\n%s", srv.Stderr)
		}
	})

	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	line := func(prefix string) string {
		t.Helper()
		l, err := srv.Stdout.waitLine(wctx, exited, prefix)
		if err != nil {
			t.Fatalf("waiting for a line %q from serve: %v (serve returned %v)\nstdout:\n%s\nstderr:\n%s",
				prefix, err, runErr, srv.Stdout, srv.Stderr)
		}
		return l
	}
	listening := line("Latchkey listening on ")
	srv.BaseURL, _, _ = strings.Cut(strings.TrimPrefix(listening, "Latchkey listening on "), " ")
	srv.BaseURL = strings.TrimRight(srv.BaseURL, "/")
	line(`Created organization "default" with administrator ` + adminEmail)
	srv.TempPassword = strings.TrimSpace(strings.TrimPrefix(line("temporary password: "), "temporary password: "))
	srv.SignInURL = strings.TrimSpace(strings.TrimPrefix(line("Sign in at "), "Sign in at "))
	if !strings.HasPrefix(srv.BaseURL, "http://127.0.0.1:") || srv.TempPassword == "" ||
		srv.SignInURL != srv.BaseURL+"/o/default/login" {
		t.Fatalf("serve announced base URL %q, temporary password %q, sign-in URL %q; want http://127.0.0.1:PORT, a password, BASE/o/default/login\nstdout:\n%s",
			srv.BaseURL, srv.TempPassword, srv.SignInURL, srv.Stdout)
	}
	return srv
}

// browser is one Chromium tab driven by a test.
type browser struct {
	t        *testing.T
	srv      *testServer
	ctx      context.Context // the tab; has no deadline
	deadline time.Time       // of the whole test
	dirs     []string        // where screenshots go
	shots    int
}

// newBrowser starts a headless Chromium with a fresh profile. It is closed
// when the test ends, before the server stops.
func newBrowser(t *testing.T, srv *testServer) *browser {
	t.Helper()
	b := &browser{t: t, srv: srv, deadline: time.Now().Add(browserTimeout), dirs: []string{t.TempDir()}}
	if dir := os.Getenv("LATCHKEY_SCREENSHOTS"); dir != "" {
		dir = filepath.Join(dir, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("LATCHKEY_SCREENSHOTS: %v", err)
		}
		b.dirs = append(b.dirs, dir)
		t.Logf("screenshots in %s", dir)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is small in containers
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.WindowSize(1280, 1024),
		chromedp.UserDataDir(t.TempDir()),
	}
	// The browser lives as long as these contexts: no deadline here, or it
	// would die before the failure report could read the page. Each step has
	// the test's deadline instead.
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing chromium: %v", err)
		}
		cancel()
		acancel()
	})
	b.ctx = ctx
	// The first action starts the browser, which then lives as long as the
	// context of that action: ctx itself, so the start is bounded by hand.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v", chromiumPath, err)
		}
	case <-time.After(time.Until(b.deadline)):
		cancel()
		t.Fatalf("%s did not start within %v", chromiumPath, browserTimeout)
	}
	return b
}

// stepContext bounds one step: 20 s, and never past the test's deadline.
func (b *browser) stepContext() (context.Context, context.CancelFunc) {
	return context.WithDeadline(b.ctx, b.stepDeadline())
}

func (b *browser) stepDeadline() time.Time {
	if d := time.Now().Add(stepTimeout); d.Before(b.deadline) {
		return d
	}
	return b.deadline
}

// do runs the actions of one step, or fails the test with what the page shows.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// submit clicks the element sel, which sends a form (or follows a link), and
// waits until the page that answers has loaded.
func (b *browser) submit(step, sel string) {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		b.fail(step, err)
	}
	if resp != nil {
		b.t.Logf("%s: %d %s", step, resp.Status, resp.URL)
	}
}

// navigate opens u and waits until it has loaded.
func (b *browser) navigate(step, u string) {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.fail(step, err)
	}
	if resp != nil && resp.Status >= 400 {
		b.fail(step, fmt.Errorf("GET %s: status %d", u, resp.Status))
	}
}

// fill types each value into the input labelled with the label before it,
// replacing what the field held: fill(step, label1, value1, label2, value2...).
func (b *browser) fill(step string, labelsAndValues ...string) {
	b.t.Helper()
	var actions []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(labelsAndValues); i += 2 {
		sel := inputLabelled(labelsAndValues[i])
		actions = append(actions,
			chromedp.WaitVisible(sel),
			clearInput(sel),
			chromedp.SendKeys(sel, labelsAndValues[i+1]),
		)
	}
	b.do(step, actions...)
}

// clearInput empties the value of the input that the XPath sel selects (a
// page may fill in, say, the email again after a failed sign-in).
// chromedp.SetValue refuses an empty value.
func clearInput(sel string) chromedp.Action[chromedp.Void] {
	quoted, _ := json.Marshal(sel)
	js := fmt.Sprintf(`(() => {
		const n = document.evaluate(%s, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
		if (!n) return false;
		n.value = "";
		return true;
	})()`, quoted)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		ok, err := chromedp.Evaluate[bool](js)(ctx, t)
		if err == nil && !ok {
			err = fmt.Errorf("no input %s to clear", sel)
		}
		return err
	})
}

// waitText waits until the visible text of the page contains text.
func (b *browser) waitText(step, text string) {
	b.t.Helper()
	ctx, cancel := b.stepContext()
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.PollFunction[bool](
		`(s) => !!document.body && document.body.innerText.includes(s)`,
		chromedp.WithPollingArgs(text),
		chromedp.WithPollingTimeout(time.Until(b.stepDeadline())),
	))
	if err != nil {
		b.fail(step, fmt.Errorf("waiting for the text %q: %w", text, err))
	}
}

// expectPath checks that the page's URL has one of the paths.
func (b *browser) expectPath(step string, paths ...string) {
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
	for _, p := range paths {
		if u.Path == p {
			return
		}
	}
	b.fail(step, fmt.Errorf("the page is %s, want the path %s", loc, strings.Join(paths, " or ")))
}

// expectRules checks that the page lists every rule of the organization's
// password policy, as GET /api/v1/orgs/default/password-policy gives them.
func (b *browser) expectRules(step string) {
	b.t.Helper()
	resp, err := http.Get(b.srv.BaseURL + "/api/v1/orgs/default/password-policy")
	if err != nil {
		b.t.Errorf("%s: reading the password policy: %v", step, err)
		return
	}
	defer resp.Body.Close()
	var policy struct {
		Rules []struct {
			Rule    string `json:"rule"`
			Message string `json:"message"`
		} `json:"rules"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&policy); err != nil || resp.StatusCode != http.StatusOK {
		b.t.Errorf("%s: GET /api/v1/orgs/default/password-policy: status %d, decoding: %v", step, resp.StatusCode, err)
		return
	}
	if len(policy.Rules) == 0 {
		b.t.Errorf("%s: the password policy has no rules", step)
	}
	for _, r := range policy.Rules {
		b.waitText(step+": rule "+r.Rule, r.Message)
	}
}

// screenshot saves the whole page as NN-name.png in the test's directories.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.shots++
	file := fmt.Sprintf("%02d-%s.png", b.shots, name)
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", file, err)
		return
	}
	for _, dir := range b.dirs {
		if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
			b.t.Logf("screenshot: %v", err)
		}
	}
}

// fail ends the test with the step, the error, and what the browser and the
// server show.
func (b *browser) fail(step string, err error) {
	b.t.Helper()
	b.screenshot("FAILED-" + strings.ReplaceAll(step, " ", "-"))
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, lerr := chromedp.Run(ctx, chromedp.Location())
	if lerr != nil {
		loc = "(unknown: " + lerr.Error() + ")"
	}
	text, terr := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if terr != nil {
		text = "(unknown: " + terr.Error() + ")"
	}
	b.t.Fatalf("%s: %v\npage: %s\npage text:\n%s\nserver stderr:\n%s", step, err, loc, indent(text), indent(b.srv.Stderr.String()))
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n\t")
}

// inputLabelled selects the input whose <label for=...> reads label.
func inputLabelled(label string) string {
	return fmt.Sprintf(`//input[@id=//label[normalize-space(.)=%s]/@for]`, xpathString(label))
}

// button selects the buttons that read text.
func button(text string) string {
	return fmt.Sprintf(`//button[normalize-space(.)=%s]`, xpathString(text))
}

// xpathString quotes s as an XPath 1.0 string literal.
func xpathString(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	parts := strings.Split(s, "'")
	return "concat('" + strings.Join(parts, `', "'", '`) + "')"
}

// lineBuffer is an io.Writer safe for concurrent use that lets a reader wait
// for a line.
type lineBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newLineBuffer() *lineBuffer { return &lineBuffer{changed: make(chan struct{})} }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return len(p), nil
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLine returns the first complete line that starts with prefix (leading
// spaces ignored), without its newline. It gives up when ctx ends or when
// exited is closed.
func (b *lineBuffer) waitLine(ctx context.Context, exited <-chan struct{}, prefix string) (string, error) {
	for {
		b.mu.Lock()
		lines := strings.SplitAfter(b.buf.String(), "\n")
		changed := b.changed
		b.mu.Unlock()
		for _, l := range lines {
			if !strings.HasSuffix(l, "\n") {
				continue // not complete yet
			}
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		}
		select {
		case <-changed:
		case <-exited:
			return "", errors.New("serve exited")
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}
