package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/mail"
)

const testFrom = "noreply@latchkey.test"

func newSender(t testing.TB, url string, opts mail.SenderOptions) *mail.Sender {
	t.Helper()
	cfg, err := mail.ParseSMTPURL(url)
	if err != nil {
		t.Fatalf("ParseSMTPURL(%q): %v", url, err)
	}
	if opts.From == "" {
		opts.From = testFrom
	}
	s, err := mail.NewSender(cfg, opts)
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	return s
}

func testEmail(id account.EmailID, to string) account.Email {
	return account.Email{
		ID: id, OrgID: 1, To: to, FromName: "Metro Fire", Template: account.TemplateReset,
		Subject:  "Reset your Metro Fire password",
		TextBody: "Hello Ann,\n\nOpen https://id.example.org/o/metro/reset-password?token=abc\n",
		HTMLBody: "<p>Hello Ann,</p><p><a href=\"https://id.example.org/o/metro/reset-password?token=abc\">Reset</a></p>",
	}
}

// parts returns the content types and decoded bodies of a multipart message.
func parts(t *testing.T, r received) (mediaType string, got map[string]string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", r.Header.Get("Content-Type"), err)
	}
	msg, _ := netmail.ReadMessage(strings.NewReader(string(r.Data)))
	got = map[string]string{}
	if !strings.HasPrefix(mt, "multipart/") {
		return mt, got
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, _ := io.ReadAll(p) // quoted-printable is decoded by the reader
		got[pt] = string(b)
	}
	return mt, got
}

func TestSender_Delivers(t *testing.T) {
	srv := newSMTPServer(t, serverOpts{})
	s := newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{})
	e := testEmail(42, "ann@example.org")
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != testFrom || !cmp.Equal(m.To, []string{"ann@example.org"}) {
		t.Errorf("envelope from %q to %q, want %q to [ann@example.org]", m.From, m.To, testFrom)
	}
	from, err := netmail.ParseAddress(m.Header.Get("From"))
	if err != nil || from.Name != "Metro Fire" || from.Address != testFrom {
		t.Errorf("From = %q (%v), want \"Metro Fire\" <%s>", m.Header.Get("From"), err, testFrom)
	}
	if to := m.Header.Get("To"); !strings.Contains(to, "<ann@example.org>") {
		t.Errorf("To = %q", to)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if subj != e.Subject {
		t.Errorf("Subject = %q, want %q", subj, e.Subject)
	}
	if id := m.Header.Get("Message-Id"); !strings.HasPrefix(id, "<latchkey.42.") || !strings.HasSuffix(id, "@latchkey.test>") {
		t.Errorf("Message-ID = %q, want <latchkey.42.…@latchkey.test>", id)
	}
	if m.Header.Get("Date") == "" || m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Date %q, Auto-Submitted %q", m.Header.Get("Date"), m.Header.Get("Auto-Submitted"))
	}
	mt, ps := parts(t, m)
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", mt)
	}
	if strings.ReplaceAll(ps["text/plain"], "\r\n", "\n") != e.TextBody || ps["text/html"] != e.HTMLBody {
		t.Errorf("parts = %q, want text %q and html %q", ps, e.TextBody, e.HTMLBody)
	}
	if m.TLS {
		t.Errorf("TLS without a TLS server?")
	}
}

func TestSender_SanitizesFromName(t *testing.T) {
	srv := newSMTPServer(t, serverOpts{})
	s := newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{})
	e := testEmail(1, "ann@example.org")
	e.FromName = "Metro Fire\r\nBcc: mallory@evil.example"
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := srv.Messages()[0]
	if m.Header.Get("Bcc") != "" || len(m.To) != 1 {
		t.Fatalf("a line break in the From name added a header: Bcc %q, envelope to %q", m.Header.Get("Bcc"), m.To)
	}
	from, err := netmail.ParseAddress(m.Header.Get("From"))
	if err != nil || from.Address != testFrom || strings.ContainsAny(from.Name, "\r\n") {
		t.Errorf("From = %q (%v)", m.Header.Get("From"), err)
	}
}

func TestSender_RejectsHeaderInjection(t *testing.T) {
	srv := newSMTPServer(t, serverOpts{})
	s := newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{})
	tests := []struct {
		name string
		edit func(*account.Email)
	}{
		{"CRLF in To", func(e *account.Email) { e.To = "ann@example.org\r\nBcc: mallory@evil.example" }},
		{"LF in To", func(e *account.Email) { e.To = "ann@example.org\nBcc: mallory@evil.example" }},
		{"CR in Subject", func(e *account.Email) { e.Subject = "Reset\rBcc: mallory@evil.example" }},
		{"CRLF in Subject", func(e *account.Email) { e.Subject = "Reset\r\nBcc: mallory@evil.example" }},
		{"two recipients", func(e *account.Email) { e.To = "ann@example.org, mallory@evil.example" }},
		{"display name", func(e *account.Email) { e.To = "Ann <ann@example.org>" }},
		{"not an address", func(e *account.Email) { e.To = "ann" }},
		{"10 kB address", func(e *account.Email) { e.To = strings.Repeat("a", 10000) + "@example.org\n" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEmail(7, "ann@example.org")
			tt.edit(&e)
			err := s.Send(context.Background(), e)
			if err == nil || !mail.Permanent(err) {
				t.Errorf("Send(%q, subject %q) = %v, want a permanent error", e.To, e.Subject, err)
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server got %d messages, want none", n)
	}
	if _, err := mail.NewSender(mail.SMTPConfig{Host: "127.0.0.1", Port: 25}, mail.SenderOptions{From: "noreply@x.test\r\nBcc: m@evil.example"}); err == nil {
		t.Errorf("NewSender accepted a From address with CRLF")
	}
	if _, err := mail.NewSender(mail.SMTPConfig{Host: "127.0.0.1", Port: 25}, mail.SenderOptions{From: "Latchkey <noreply@x.test>"}); err == nil {
		t.Errorf("NewSender accepted a From with a display name")
	}
}

func TestSender_AuthPlainOnLoopback(t *testing.T) {
	srv := newSMTPServer(t, serverOpts{user: "relay", pass: "s3cret pass", insecure: true})
	s := newSender(t, "smtp://relay:s3cret%20pass@"+srv.Addr, mail.SenderOptions{})
	if err := s.Send(context.Background(), testEmail(1, "ann@example.org")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if m := srv.Messages(); len(m) != 1 || m[0].AuthUser != "relay" {
		t.Fatalf("messages %+v, want one sent after AUTH as relay", m)
	}

	bad := newSender(t, "smtp://relay:wrong-password@"+srv.Addr, mail.SenderOptions{})
	err := bad.Send(context.Background(), testEmail(2, "ann@example.org"))
	if err == nil || !strings.Contains(err.Error(), "535") || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("Send with a wrong password = %v, want the 535 reply and no password", err)
	}
	none := newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{})
	if err := none.Send(context.Background(), testEmail(3, "ann@example.org")); err == nil || mail.Permanent(err) {
		t.Errorf("Send without credentials to a server requiring AUTH = %v, want a (retryable) error", err)
	}
}

func TestSender_STARTTLSAndAuth(t *testing.T) {
	cert, pool := testCert(t)
	// No insecure AUTH: the server offers AUTH only after STARTTLS.
	srv := newSMTPServer(t, serverOpts{user: "relay", pass: "pw", tls: &tls.Config{Certificates: []tls.Certificate{cert}}})
	s := newSender(t, "smtp://relay:pw@"+srv.Addr, mail.SenderOptions{TLSConfig: &tls.Config{RootCAs: pool}})
	if err := s.Send(context.Background(), testEmail(1, "ann@example.org")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := srv.Messages()
	if len(m) != 1 || !m[0].TLS || m[0].AuthUser != "relay" {
		t.Fatalf("messages %+v, want one over STARTTLS after AUTH", m)
	}

	// A certificate the client does not trust fails the send.
	untrusting := newSender(t, "smtp://relay:pw@"+srv.Addr, mail.SenderOptions{})
	if err := untrusting.Send(context.Background(), testEmail(2, "ann@example.org")); err == nil {
		t.Errorf("Send over STARTTLS with an untrusted certificate succeeded")
	}
}

func TestSender_ImplicitTLS(t *testing.T) {
	cert, pool := testCert(t)
	srv := newSMTPServer(t, serverOpts{user: "relay", pass: "pw", implicit: true,
		tls: &tls.Config{Certificates: []tls.Certificate{cert}}})
	s := newSender(t, "smtps://relay:pw@"+srv.Addr, mail.SenderOptions{TLSConfig: &tls.Config{RootCAs: pool}})
	if err := s.Send(context.Background(), testEmail(1, "ann@example.org")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS || m[0].AuthUser != "relay" {
		t.Fatalf("messages %+v, want one over TLS after AUTH", m)
	}
}

func TestSender_ServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := newSender(t, "smtp://"+addr, mail.SenderOptions{})
	err = s.Send(context.Background(), testEmail(1, "ann@example.org"))
	if err == nil || mail.Permanent(err) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Send to a closed port = %v, want a retryable connection refused", err)
	}
}

func TestSender_Replies(t *testing.T) {
	tests := []struct {
		name      string
		rcpt      error
		data      error
		permanent bool
		code, msg string
	}{
		{"rcpt 550", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, nil, true, "550", "no such user"},
		{"rcpt 450", &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox busy"}, nil, false, "450", "mailbox busy"},
		{"data 554", nil, &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relay denied"}, false, "554", "relay denied"},
		{"data 451", nil, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}, false, "451", "try later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSMTPServer(t, serverOpts{})
			srv.Rcpt = func(int) error { return tt.rcpt }
			srv.Data = func(int) error { return tt.data }
			s := newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{})
			err := s.Send(context.Background(), testEmail(1, "ann@example.org"))
			if err == nil || !strings.Contains(err.Error(), tt.code) || !strings.Contains(err.Error(), tt.msg) || mail.Permanent(err) != tt.permanent {
				t.Errorf("Send = %v (permanent %v), want %s %q, permanent %v", err, mail.Permanent(err), tt.code, tt.msg, tt.permanent)
			}
		})
	}
}

func TestSender_Timeouts(t *testing.T) {
	t.Run("no greeting", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close() // accept, then say nothing
			}
		}()
		s := newSender(t, "smtp://"+ln.Addr().String(), mail.SenderOptions{ConnectTimeout: 200 * time.Millisecond, SendTimeout: 2 * time.Second})
		start := time.Now()
		err = s.Send(context.Background(), testEmail(1, "ann@example.org"))
		if d := time.Since(start); err == nil || d > time.Second || !strings.Contains(err.Error(), "timeout") {
			t.Errorf("Send to a silent server = %v after %v, want a timeout after about 200ms", err, d)
		}
	})
	t.Run("stuck in DATA", func(t *testing.T) {
		srv := newSMTPServer(t, serverOpts{})
		srv.Hang = make(chan struct{})
		s := newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{ConnectTimeout: 2 * time.Second, SendTimeout: 300 * time.Millisecond})
		start := time.Now()
		err := s.Send(context.Background(), testEmail(1, "ann@example.org"))
		if d := time.Since(start); err == nil || d > 1500*time.Millisecond || !strings.Contains(err.Error(), "timed out") {
			t.Errorf("Send to a server stuck in DATA = %v after %v, want timed out after about 300ms", err, d)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		srv := newSMTPServer(t, serverOpts{})
		srv.Hang = make(chan struct{})
		s := newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Send(ctx, testEmail(1, "ann@example.org"))
		if d := time.Since(start); err == nil || d > 1500*time.Millisecond {
			t.Errorf("Send with a cancelled context = %v after %v, want an error after about 200ms", err, d)
		}
	})
}

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		in   string
		want mail.SMTPConfig
		str  string
	}{
		{"smtp://mail.example.org", mail.SMTPConfig{Host: "mail.example.org", Port: 587}, "smtp://mail.example.org:587"},
		{"smtp://mail.example.org:25", mail.SMTPConfig{Host: "mail.example.org", Port: 25}, "smtp://mail.example.org:25"},
		{"smtps://mail.example.org", mail.SMTPConfig{Host: "mail.example.org", Port: 465, ImplicitTLS: true}, "smtps://mail.example.org:465"},
		{"smtp://u%40x:p%3Aw%40rd@127.0.0.1:2525/", mail.SMTPConfig{Host: "127.0.0.1", Port: 2525, Username: "u@x", Password: "p:w@rd"},
			"smtp://u%40x:REDACTED@127.0.0.1:2525"},
		{"smtp://[::1]:25", mail.SMTPConfig{Host: "::1", Port: 25}, "smtp://[::1]:25"},
	}
	for _, tt := range tests {
		got, err := mail.ParseSMTPURL(tt.in)
		if err != nil {
			t.Errorf("ParseSMTPURL(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseSMTPURL(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("ParseSMTPURL(%q).String() = %q, want %q", tt.in, s, tt.str)
		}
		if s := fmt.Sprintf("%v %+v %#v", got, got, got); strings.Contains(s, "w@rd") {
			t.Errorf("formatting %q reveals the password: %s", tt.in, s)
		}
	}

	bad := []string{
		"", "mail.example.org", "http://mail.example.org", "smtp://", "smtp://:25",
		"smtp://hunter2user:hunter2@mail.example.org:0", "smtp://hunter2user:hunter2@mail.example.org:99999",
		"smtp://hunter2user:hunter2@mail.example.org:x", "smtp://hunter2user:hunter2@mail.example.org/path",
		"smtp://hunter2user:hunter2@mail.example.org?tls=no", "smtp://user@mail.example.org", "smtp://:hunter2@mail.example.org",
		"smtp://hunter2user:hunter2%zz@mail.example.org", "smtp://hunter2user:hunter2@[::1",
	}
	for _, in := range bad {
		_, err := mail.ParseSMTPURL(in)
		if err == nil {
			t.Errorf("ParseSMTPURL(%q) succeeded, want an error", in)
			continue
		}
		if strings.Contains(strings.ReplaceAll(err.Error(), "hunter2user", ""), "hunter2") {
			t.Errorf("ParseSMTPURL(%q) error %q reveals the password", in, err)
		}
		if !strings.HasPrefix(err.Error(), "mail: ") {
			t.Errorf("ParseSMTPURL(%q) error %q", in, err)
		}
	}
}

func TestPermanent(t *testing.T) {
	if mail.Permanent(nil) || mail.Permanent(errors.New("x")) || mail.Permanent(context.DeadlineExceeded) {
		t.Error("Permanent of an ordinary error")
	}
}
