package mail_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// The worker tests run against the real outbox of sqlstore on SQLite (and
// PostgreSQL where several processes share it) and a real SMTP server in
// the test process; only the clock is fake.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openStore(t testing.TB, url string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func newSQLite(t testing.TB) *sqlstore.DB {
	return openStore(t, "sqlite:"+filepath.Join(t.TempDir(), "latchkey.db"))
}

func mustOrg(t testing.TB, db *sqlstore.DB) account.Org {
	t.Helper()
	o := account.Org{Slug: "metro-fire", Name: "Metro Fire", Settings: account.DefaultSettings(), CreatedAt: time.Now()}
	if err := db.Tx(context.Background(), func(tx account.Tx) error { return tx.CreateOrg(context.Background(), &o) }); err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	return o
}

// enqueue renders n reset emails to prefixN@example.org and queues them,
// due at now, in one transaction.
func enqueue(t testing.TB, db *sqlstore.DB, org account.Org, n int, prefix string, now time.Time) []account.EmailID {
	t.Helper()
	r := newRenderer(t)
	var ids []account.EmailID
	err := db.Tx(context.Background(), func(tx account.Tx) error {
		for i := range n {
			d := fixture
			d.Email = fmt.Sprintf("%s%d@example.org", prefix, i)
			subject, text, html, err := r.Render(account.TemplateReset, d)
			if err != nil {
				return err
			}
			e := account.Email{OrgID: org.ID, To: d.Email, FromName: org.Name, Template: account.TemplateReset,
				Subject: subject, TextBody: text, HTMLBody: html, CreatedAt: now, NextAttemptAt: now}
			if err := tx.EnqueueEmail(context.Background(), &e); err != nil {
				return err
			}
			ids = append(ids, e.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return ids
}

func entries(t testing.TB, db *sqlstore.DB, org account.Org) []account.Email {
	t.Helper()
	var es []account.Email
	err := db.View(context.Background(), func(tx account.Tx) (err error) {
		es, err = tx.ListEmails(context.Background(), org.ID, account.EmailFilter{})
		return err
	})
	if err != nil {
		t.Fatalf("ListEmails: %v", err)
	}
	return es
}

// identity is the jitter that always waits the whole window, so that the
// backoff is predictable.
func identity(d time.Duration) time.Duration { return d }

func newWorker(t testing.TB, db mail.Outbox, s mail.Transport, clk *clock, opts mail.WorkerOptions, log *slog.Logger) *mail.Worker {
	t.Helper()
	if clk != nil {
		opts.Now = clk.Now
	}
	if opts.Jitter == nil {
		opts.Jitter = identity
	}
	return mail.NewWorker(db, s, log, opts)
}

func runOnce(t testing.TB, w *mail.Worker) int {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

// checkAll fails unless every entry has the status and, if not "", an
// error containing errPart.
func checkAll(t testing.TB, es []account.Email, status account.EmailStatus, attempts int, errPart string) {
	t.Helper()
	for _, e := range es {
		if e.Status != status || e.Attempts != attempts || !strings.Contains(e.LastError, errPart) {
			t.Errorf("entry %d: status %s, attempts %d, error %q; want %s, %d, error containing %q",
				e.ID, e.Status, e.Attempts, e.LastError, status, attempts, errPart)
		}
	}
}

func TestWorker_Delivers(t *testing.T) {
	db := newSQLite(t)
	org := mustOrg(t, db)
	clk := newClock()
	srv := newSMTPServer(t, serverOpts{})
	enqueue(t, db, org, 3, "u", clk.Now())
	w := newWorker(t, db, newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{}), clk, mail.WorkerOptions{}, nil)
	if n := runOnce(t, w); n != 3 {
		t.Fatalf("RunOnce claimed %d, want 3", n)
	}
	if n := len(srv.Messages()); n != 3 {
		t.Fatalf("server got %d messages, want 3", n)
	}
	es := entries(t, db, org)
	checkAll(t, es, account.EmailSent, 1, "")
	for _, e := range es {
		if e.TextBody != "" || e.HTMLBody != "" || e.SentAt == nil || !e.SentAt.Equal(clk.Now()) {
			t.Errorf("sent entry %d keeps bodies or lacks sent_at: %+v", e.ID, e)
		}
	}
	if n := runOnce(t, w); n != 0 {
		t.Errorf("RunOnce after all were sent claimed %d", n)
	}
	// The message carries the rendered link and code.
	_, ps := parts(t, srv.Messages()[0])
	if !strings.Contains(ps["text/plain"], fixture.Code) || !strings.Contains(ps["text/html"], fixture.Code) {
		t.Errorf("delivered message lacks the code: %q", ps)
	}
}

// TestWorker_Outage: the SMTP server is down, then up. Nothing is lost: each
// attempt is recorded with the error and backs off, then all arrive, once.
func TestWorker_Outage(t *testing.T) {
	db := newSQLite(t)
	org := mustOrg(t, db)
	clk := newClock()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down
	const n = 5
	enqueue(t, db, org, n, "u", clk.Now())
	w := newWorker(t, db, newSender(t, "smtp://"+addr, mail.SenderOptions{}), clk, mail.WorkerOptions{}, nil)

	runOnce(t, w)
	es := entries(t, db, org)
	checkAll(t, es, account.EmailQueued, 1, "connection refused")
	for _, e := range es {
		if want := clk.Now().Add(30 * time.Second); !e.NextAttemptAt.Equal(want) {
			t.Errorf("after attempt 1: next attempt %v, want %v (base 30s)", e.NextAttemptAt, want)
		}
	}
	clk.Advance(29 * time.Second)
	if got := runOnce(t, w); got != 0 {
		t.Errorf("RunOnce before the backoff ended claimed %d", got)
	}
	clk.Advance(time.Second)
	runOnce(t, w)
	es = entries(t, db, org)
	checkAll(t, es, account.EmailQueued, 2, "connection refused")
	for _, e := range es {
		if want := clk.Now().Add(60 * time.Second); !e.NextAttemptAt.Equal(want) {
			t.Errorf("after attempt 2: next attempt %v, want %v (doubled)", e.NextAttemptAt, want)
		}
	}

	srv := newSMTPServer(t, serverOpts{addr: addr}) // up again
	clk.Advance(time.Minute)
	if got := runOnce(t, w); got != n {
		t.Fatalf("RunOnce after the outage claimed %d, want %d", got, n)
	}
	checkAll(t, entries(t, db, org), account.EmailSent, 3, "")
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.To[0]]++
	}
	if len(seen) != n {
		t.Errorf("server got %v, want each of %d recipients", seen, n)
	}
	for to, c := range seen {
		if c != 1 {
			t.Errorf("%s got %d messages", to, c)
		}
	}
}

func TestWorker_TemporaryFailureThenOK(t *testing.T) {
	db := newSQLite(t)
	org := mustOrg(t, db)
	clk := newClock()
	srv := newSMTPServer(t, serverOpts{})
	srv.Data = func(n int) error {
		if n == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "greylisted, try later"}
		}
		return nil
	}
	enqueue(t, db, org, 1, "u", clk.Now())
	w := newWorker(t, db, newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{}), clk, mail.WorkerOptions{}, nil)
	runOnce(t, w)
	checkAll(t, entries(t, db, org), account.EmailQueued, 1, "greylisted")
	clk.Advance(30 * time.Second)
	runOnce(t, w)
	checkAll(t, entries(t, db, org), account.EmailSent, 2, "")
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("server got %d messages, want 1", n)
	}
}

func TestWorker_PermanentReplyFailsAfterMaxAttempts(t *testing.T) {
	db := newSQLite(t)
	org := mustOrg(t, db)
	clk := newClock()
	srv := newSMTPServer(t, serverOpts{})
	srv.Data = func(int) error {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relay access denied"}
	}
	enqueue(t, db, org, 2, "u", clk.Now())
	w := newWorker(t, db, newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{}), clk, mail.WorkerOptions{MaxAttempts: 3}, nil)
	for attempt := 1; attempt <= 3; attempt++ {
		if got := runOnce(t, w); got != 2 {
			t.Fatalf("attempt %d claimed %d, want 2", attempt, got)
		}
		want := account.EmailQueued
		if attempt == 3 {
			want = account.EmailFailed
		}
		checkAll(t, entries(t, db, org), want, attempt, "554")
		clk.Advance(time.Hour)
	}
	if got := runOnce(t, w); got != 0 {
		t.Errorf("RunOnce after failing claimed %d", got)
	}
	es := entries(t, db, org)
	checkAll(t, es, account.EmailFailed, 3, "relay access denied")
	if es[0].TextBody == "" {
		t.Error("a failed entry lost its body: it could not be requeued")
	}
}

func TestWorker_RejectedRecipientFailsAtOnce(t *testing.T) {
	db := newSQLite(t)
	org := mustOrg(t, db)
	clk := newClock()
	srv := newSMTPServer(t, serverOpts{})
	srv.Rcpt = func(int) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	enqueue(t, db, org, 1, "u", clk.Now())
	w := newWorker(t, db, newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{}), clk, mail.WorkerOptions{}, nil)
	runOnce(t, w)
	checkAll(t, entries(t, db, org), account.EmailFailed, 1, "no such mailbox")
}

func TestWorker_HangingServer(t *testing.T) {
	db := newSQLite(t)
	org := mustOrg(t, db)
	clk := newClock()
	srv := newSMTPServer(t, serverOpts{})
	srv.Hang = make(chan struct{})
	enqueue(t, db, org, 2, "u", clk.Now())
	s := newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{ConnectTimeout: time.Second, SendTimeout: 300 * time.Millisecond})
	w := newWorker(t, db, s, clk, mail.WorkerOptions{}, nil)
	start := time.Now()
	runOnce(t, w)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("RunOnce against a hanging server took %v", d)
	}
	checkAll(t, entries(t, db, org), account.EmailQueued, 1, "timed out")
}

// TestWorker_LeaseCutsSend: a send still running near the end of the lease
// is cut off, so that another worker taking the entry over never sends it
// at the same time.
func TestWorker_LeaseCutsSend(t *testing.T) {
	db := newSQLite(t)
	org := mustOrg(t, db)
	srv := newSMTPServer(t, serverOpts{})
	srv.Hang = make(chan struct{})
	enqueue(t, db, org, 1, "u", time.Now())
	w := newWorker(t, db, newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{}), nil,
		mail.WorkerOptions{Lease: 300 * time.Millisecond}, nil)
	start := time.Now()
	runOnce(t, w)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("send ran %v past a 300ms lease", d)
	}
	checkAll(t, entries(t, db, org), account.EmailQueued, 1, "timed out")
}

func TestWorker_RunWakeStop(t *testing.T) {
	db := newSQLite(t)
	org := mustOrg(t, db)
	srv := newSMTPServer(t, serverOpts{})
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := newWorker(t, db, newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{}), nil,
		mail.WorkerOptions{PollInterval: time.Hour}, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	enqueue(t, db, org, 1, "u", time.Now())
	w.Wake() // without it, the next look would be an hour away
	srv.WaitFor(1)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil on cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
	checkAll(t, entries(t, db, org), account.EmailSent, 1, "")

	// Security: the log names entries, never their bodies, links or codes.
	for _, secret := range []string{fixture.Link, "token=", fixture.Code, "Hello"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("worker log contains %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), `"email_id"`) {
		t.Errorf("worker log names no entry:\n%s", logs.String())
	}
}

func TestWorker_NoSender(t *testing.T) {
	w := mail.NewWorker(newSQLite(t), nil, nil, mail.WorkerOptions{})
	if err := w.Run(context.Background()); err == nil {
		t.Error("Run without a sender succeeded")
	}
}

// postgresURL creates a database of its own on LATCHKEY_TEST_POSTGRES and
// drops it when t ends. Without PostgreSQL it skips t loudly, or fails it
// under CI=true.
func postgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("LATCHKEY_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	unreachable := func(err error) {
		t.Helper()
		msg := fmt.Sprintf("PostgreSQL not reachable: %v", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + ": FAILED (CI=true)")
		}
		t.Skip("!!! " + msg + ": PostgreSQL mail tests SKIPPED (set LATCHKEY_TEST_POSTGRES)")
	}
	root, err := sql.Open("pgx", base)
	if err != nil {
		unreachable(err)
	}
	defer root.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := root.PingContext(ctx); err != nil {
		unreachable(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := fmt.Sprintf("latchkey_mail_test_%d_%s", os.Getpid(), hex.EncodeToString(b))
	if _, err := root.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		root, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer root.Close()
		if _, err := root.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestWorker_TwoProcessesPostgres runs two workers, each with a database
// handle of its own as two serve processes would have, over one PostgreSQL
// outbox of 200 messages: the SMTP server gets each exactly once.
func TestWorker_TwoProcessesPostgres(t *testing.T) {
	url := postgresURL(t)
	a := openStore(t, url)
	b := openStore(t, url)
	org := mustOrg(t, a)
	const n = 200
	enqueue(t, a, org, n, "u", time.Now())
	srv := newSMTPServer(t, serverOpts{})

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, db := range []*sqlstore.DB{a, b} {
		w := newWorker(t, db, newSender(t, "smtp://"+srv.Addr, mail.SenderOptions{}), nil,
			mail.WorkerOptions{BatchSize: 10, Concurrency: 4, PollInterval: 10 * time.Millisecond}, nil)
		wg.Go(func() { w.Run(ctx) })
	}
	srv.WaitFor(n)
	cancel()
	wg.Wait()

	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.To[0]]++
	}
	if len(seen) != n {
		t.Errorf("%d recipients got mail, want %d", len(seen), n)
	}
	for to, c := range seen {
		if c != 1 {
			t.Errorf("%s got %d messages, want 1", to, c)
		}
	}
	checkAll(t, entries(t, a, org), account.EmailSent, 1, "")
}

// sqlstore's DB is the outbox serve gives the worker.
var _ mail.Outbox = (*sqlstore.DB)(nil)
