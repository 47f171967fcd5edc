package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	netmail "net/mail"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestSMTP_ResetEmailArrives runs "latchkey serve" with --smtp pointing at a
// real SMTP server in this process (emersion/go-smtp) and --base-url at a
// public name that is not where the test reaches it. A forgot-password
// request, sent with a forged Host header, delivers a multipart email whose
// link is built from --base-url only; its token resets the password once.
// Then the server answers 451 to an administrator's reset email: the outbox
// records the attempt and the SMTP error, Resend issues a fresh link, and
// that one arrives and works.
func TestSMTP_ResetEmailArrives(t *testing.T) {
	const publicBase = "http://accounts.example.test"
	const linkPrefix = publicBase + "/o/default/reset-password?token="
	mc := newMailCatcher(t)
	srv := serveWith(t, "--smtp", "smtp://"+mc.Addr, "--mail-from", "latchkey@example.org", "--base-url", publicBase)
	api := newAdminAPI(t, srv)

	const email, oldPw = "quinn.mail@example.org", "Quinn-Old-Password-12"
	quinn := api.createUser(t, fmt.Sprintf(`{"email":%s,"name":"Quinn Mail","kind":"staff","roles":["User"],"password":%s}`,
		jsString(email), jsString(oldPw)))

	// Forgot password, with a Host header that must not reach the link.
	st, body := rawCall(t, srv.BaseURL, "POST", "/api/v1/auth/forgot-password", "evil.example",
		fmt.Sprintf(`{"org":"default","email":%s}`, jsString(email)))
	if st != http.StatusAccepted {
		t.Fatalf("POST /api/v1/auth/forgot-password: status %d, want 202: %s", st, body)
	}
	msg := mc.waitFor(t, "the reset email", func(c caught) bool { return linkIn(c.Data) != "" })
	if len(msg.To) != 1 || msg.To[0] != email || msg.From != "latchkey@example.org" {
		t.Errorf("the message went from %q to %v, want latchkey@example.org to %s", msg.From, msg.To, email)
	}
	text := textBody(t, msg.Data)
	link := resetLink(t, text, linkPrefix)
	if strings.Contains(string(msg.Data), "evil.example") {
		t.Errorf("the forged Host header reached the message:\n%s", msg.Data)
	}
	if !regexp.MustCompile(`\b\d{8}\b`).MatchString(text) {
		t.Errorf("the text body has no 8-digit code:\n%s", text)
	}

	// The outbox entry is sent, once, and its body is not shown with SMTP.
	entry := waitEmail(t, api, quinn, func(e outboxEntry) bool { return e.Status == "sent" })
	if entry.Attempts != 1 || entry.Template != "reset" || entry.To != email || entry.TextBody != "" {
		t.Errorf("the sent entry is %+v, want 1 attempt, template reset, to %s, no body", entry, email)
	}

	// The link, moved to where the test reaches the server, works once.
	token := strings.TrimPrefix(link, linkPrefix)
	const newPw = "Quinn-Arrived-Beacon-34"
	anon := &adminAPI{base: srv.BaseURL}
	anon.call(t, "POST", "/api/v1/auth/reset-password", fmt.Sprintf(`{"token":%s,"new_password":%s}`, jsString(token), jsString(newPw)),
		http.StatusOK, nil)
	var refused struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	anon.call(t, "POST", "/api/v1/auth/reset-password", fmt.Sprintf(`{"token":%s,"new_password":"Quinn-Third-Password-56"}`, jsString(token)),
		http.StatusBadRequest, &refused)
	if refused.Error.Code != "invalid_token" {
		t.Errorf("the second use: code %q, want invalid_token", refused.Error.Code)
	}
	anon.call(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"org":"default","email":%s,"password":%s}`, jsString(email), jsString(newPw)),
		http.StatusOK, nil)
	anon.call(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"org":"default","email":%s,"password":%s}`, jsString(email), jsString(oldPw)),
		http.StatusUnauthorized, nil)
	// The notice that the password changed arrives too, with no link that
	// changes anything.
	notice := mc.waitFor(t, "the password-changed notice", func(c caught) bool { return !bytes.Equal(c.Data, msg.Data) })
	if l := linkIn(notice.Data); l != "" || len(notice.To) != 1 || notice.To[0] != email {
		t.Errorf("the second message went to %v with reset link %q; want the password-changed notice to %s, no link", notice.To, l, email)
	}
	before := len(mc.messages())

	// An outage answering 451: the administrator's reset email is refused
	// (and stays refused on every retry: its link is remembered), recorded
	// with the SMTP error, not lost; Resend sends a fresh link, which arrives.
	var mu sync.Mutex
	refusedLinks, outage := map[string]bool{}, true
	mc.setData(func(link string) error {
		mu.Lock()
		defer mu.Unlock()
		if outage {
			refusedLinks[link] = true
		}
		if refusedLinks[link] {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
		return nil
	})
	var sent struct {
		Email outboxEntry `json:"email"`
	}
	api.call(t, "POST", fmt.Sprintf("/api/v1/users/%d/password-reset-email", quinn), "", http.StatusAccepted, &sent)
	failed := waitEmail(t, api, quinn, func(e outboxEntry) bool { return e.ID == sent.Email.ID && e.Attempts >= 1 && e.LastError != "" })
	if failed.Status == "sent" || !strings.Contains(failed.LastError, "451") {
		t.Fatalf("after a 451 the entry is %+v, want queued (or failed) with the SMTP error", failed)
	}
	if n := len(mc.messages()); n != before {
		t.Fatalf("%d messages arrived, want %d (the 451 delivered nothing)", n, before)
	}
	t.Logf("after the 451: status %s, attempts %d, last error %q", failed.Status, failed.Attempts, failed.LastError)
	mu.Lock()
	outage = false
	mu.Unlock()
	var resent struct {
		Email outboxEntry `json:"email"`
	}
	api.call(t, "POST", fmt.Sprintf("/api/v1/emails/%d/resend", sent.Email.ID), "", http.StatusAccepted, &resent)
	if resent.Email.ID == sent.Email.ID {
		t.Errorf("Resend of a reset email kept entry %d, want a fresh link in a new entry", sent.Email.ID)
	}
	msg = mc.waitFor(t, "the resent email", func(c caught) bool { l := linkIn(c.Data); return l != "" && l != link })
	link2 := resetLink(t, textBody(t, msg.Data), linkPrefix)
	if link2 == link {
		t.Fatal("the resent email carries the used link")
	}
	waitEmail(t, api, quinn, func(e outboxEntry) bool { return e.ID == resent.Email.ID && e.Status == "sent" })
	anon.call(t, "POST", "/api/v1/auth/reset-password", fmt.Sprintf(`{"token":%s,"new_password":"Quinn-Resent-Harbor-78"}`,
		jsString(strings.TrimPrefix(link2, linkPrefix))), http.StatusOK, nil)
}

// serveWith runs serve on 127.0.0.1:0 with a new SQLite database and the
// extra flags, like mustServe, and returns where the test reaches it (the
// listening address, whatever --base-url says) and the first administrator's
// temporary password.
func serveWith(t *testing.T, extra ...string) *testServer {
	t.Helper()
	srv := &testServer{Stdout: newLineBuffer(), Stderr: newLineBuffer()}
	db := "sqlite:" + filepath.Join(t.TempDir(), "lk.db")
	getenv := func(string) string { return "" }
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	var runErr error
	go func() {
		defer close(exited)
		runErr = run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, extra...), getenv, srv.Stdout, srv.Stderr)
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
	listening := strings.TrimPrefix(line("Latchkey listening on "), "Latchkey listening on ")
	srv.BaseURL, _, _ = strings.Cut(listening, " ")
	srv.BaseURL = strings.TrimRight(srv.BaseURL, "/")
	srv.TempPassword = strings.TrimSpace(strings.TrimPrefix(line("temporary password: "), "temporary password: "))
	srv.SignInURL = strings.TrimSpace(strings.TrimPrefix(line("Sign in at "), "Sign in at "))
	if !strings.HasPrefix(srv.BaseURL, "http://127.0.0.1:") || srv.TempPassword == "" {
		t.Fatalf("serve announced %q and temporary password %q\nstdout:\n%s", srv.BaseURL, srv.TempPassword, srv.Stdout)
	}
	return srv
}

// outboxEntry is an entry of GET /api/v1/emails.
type outboxEntry struct {
	ID        int64  `json:"id"`
	To        string `json:"to"`
	Template  string `json:"template"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error"`
	TextBody  string `json:"text_body"`
}

// waitEmail polls GET /api/v1/emails?user_id= until an entry satisfies ok.
func waitEmail(t *testing.T, api *adminAPI, user int64, ok func(outboxEntry) bool) outboxEntry {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last []outboxEntry
	for {
		var res struct {
			Emails []outboxEntry `json:"emails"`
		}
		api.call(t, "GET", fmt.Sprintf("/api/v1/emails?user_id=%d", user), "", http.StatusOK, &res)
		for _, e := range res.Emails {
			if ok(e) {
				return e
			}
		}
		last = res.Emails
		if time.Now().After(deadline) {
			t.Fatalf("no outbox entry of user %d became as expected within 20 s; the entries: %+v", user, last)
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}

// rawCall sends a JSON request with a chosen Host header.
func rawCall(t *testing.T, base, method, path, host, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// textBody returns the decoded text/plain part of a message.
func textBody(t *testing.T, data []byte) string {
	t.Helper()
	s, err := decodeText(data)
	if err != nil || s == "" {
		t.Fatalf("no text part in the message (%v):\n%s", err, data)
	}
	return s
}

func decodeText(data []byte) (string, error) {
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	return findText(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
}

// linkIn is the reset link in a message's text part, or "".
func linkIn(data []byte) string {
	s, _ := decodeText(data)
	return linkRE.FindString(s)
}

func findText(ctype, cte string, r io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return "", nil
			}
			if err != nil {
				return "", err
			}
			// NextPart decodes quoted-printable itself and drops the header.
			s, err := findText(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if err != nil || s != "" {
				return s, err
			}
		}
	}
	if mt != "text/plain" {
		return "", nil
	}
	switch strings.ToLower(cte) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+/reset-password\?token=[A-Za-z0-9_\-]+`)

// resetLink finds the reset link in a text body and checks where it points.
func resetLink(t *testing.T, text, prefix string) string {
	t.Helper()
	link := linkRE.FindString(text)
	if !strings.HasPrefix(link, prefix) || len(link) < len(prefix)+40 {
		t.Fatalf("the text body's link is %q, want %sTOKEN (32 random bytes):\n%s", link, prefix, text)
	}
	return link
}

// mailCatcher is a real SMTP server on 127.0.0.1 that keeps what it is
// sent; data, when set, answers each DATA command given the reset link in
// the message ("" for none): a non-nil error refuses the message.
type mailCatcher struct {
	Addr    string
	srv     *smtp.Server
	mu      sync.Mutex
	msgs    []caught
	data    func(link string) error
	arrived chan struct{}
}

type caught struct {
	From string
	To   []string
	Data []byte
}

func newMailCatcher(t *testing.T) *mailCatcher {
	t.Helper()
	mc := &mailCatcher{arrived: make(chan struct{}, 1000)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mc.Addr = ln.Addr().String()
	mc.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &catcherSession{mc: mc}, nil
	}))
	mc.srv.Domain = "localhost"
	mc.srv.ReadTimeout, mc.srv.WriteTimeout = 10*time.Second, 10*time.Second
	mc.srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		mc.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		mc.srv.Close()
		ln.Close()
		<-done
	})
	return mc
}

func (mc *mailCatcher) setData(f func(link string) error) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	mc.data = f
}

func (mc *mailCatcher) messages() []caught {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	return append([]caught(nil), mc.msgs...)
}

// waitFor waits until a message for which ok holds has arrived.
func (mc *mailCatcher) waitFor(t *testing.T, what string, ok func(caught) bool) caught {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		for _, m := range mc.messages() {
			if ok(m) {
				return m
			}
		}
		select {
		case <-mc.arrived:
		case <-timeout:
			t.Fatalf("waited 20 s for %s; %d other messages arrived", what, len(mc.messages()))
		}
	}
}

type catcherSession struct {
	mc   *mailCatcher
	from string
	to   []string
}

func (s *catcherSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }

func (s *catcherSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *catcherSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mc.mu.Lock()
	f := s.mc.data
	s.mc.mu.Unlock()
	if f != nil {
		if err := f(linkIn(b)); err != nil {
			return err
		}
	}
	s.mc.mu.Lock()
	s.mc.msgs = append(s.mc.msgs, caught{From: s.from, To: s.to, Data: b})
	s.mc.mu.Unlock()
	s.mc.arrived <- struct{}{}
	return nil
}

func (s *catcherSession) Reset()        { s.from, s.to = "", nil }
func (s *catcherSession) Logout() error { return nil }
