package mail_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// BenchmarkWorker10k sends 10,000 queued messages through one worker to
// the local go-smtp server, on SQLite and on PostgreSQL, and reports
// messages per second of draining the outbox (claim, SMTP, outcome) and
// the messages the server got twice, which must be 0. Run it with
//
//	go test ./internal/mail -run '^$' -bench Worker10k -benchtime 1x
func BenchmarkWorker10k(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchWorker(b, newSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchWorker(b, openStore(b, postgresURL(b))) })
}

func benchWorker(b *testing.B, db *sqlstore.DB) {
	const n = 10000
	org := mustOrg(b, db)
	srv := newSMTPServer(b, serverOpts{})
	s := newSender(b, "smtp://"+srv.Addr, mail.SenderOptions{})
	var total time.Duration
	sent := 0
	for b.Loop() {
		before := len(srv.Messages())
		enqueue(b, db, org, n, "u", time.Now().Add(-time.Second))
		w := mail.NewWorker(db, s, nil, mail.WorkerOptions{Concurrency: 8, PollInterval: 10 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		start := time.Now()
		wg.Go(func() { w.Run(ctx) })
		srv.WaitFor(before + n)
		total += time.Since(start)
		cancel()
		wg.Wait()
		sent += n
	}
	// The Message-ID is <latchkey.ENTRY.RANDOM@domain>: count per entry.
	seen := map[string]int{}
	dups := 0
	for _, m := range srv.Messages() {
		id, _, _ := strings.Cut(strings.TrimPrefix(m.Header.Get("Message-Id"), "<latchkey."), ".")
		seen[id]++
	}
	for _, c := range seen {
		dups += c - 1
	}
	var queued []account.Email
	db.View(context.Background(), func(tx account.Tx) (err error) {
		queued, err = tx.ListEmails(context.Background(), org.ID, account.EmailFilter{Status: account.EmailQueued})
		return err
	})
	if len(srv.Messages()) != sent || len(queued) != 0 {
		b.Errorf("server got %d messages, want %d; %d entries still queued", len(srv.Messages()), sent, len(queued))
	}
	b.ReportMetric(float64(sent)/total.Seconds(), "msgs/s")
	b.ReportMetric(float64(dups), "duplicates")
}
