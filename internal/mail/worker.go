package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// Outbox is what the worker needs of the store: sqlstore.DB implements it.
// Each method is one atomic statement, outside any use case's transaction.
type Outbox interface {
	// ClaimEmails leases up to limit due entries until now+lease, adding one
	// to their attempts, and returns them with their bodies; no other claim
	// returns them before the lease ends.
	ClaimEmails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]account.Email, error)
	// MarkEmailSent records a claimed entry as sent and drops its bodies.
	MarkEmailSent(ctx context.Context, id account.EmailID, at time.Time) error
	// MarkEmailRetry gives a claimed entry back, due at next, with the error.
	MarkEmailRetry(ctx context.Context, id account.EmailID, next time.Time, errText string) error
	// MarkEmailFailed records a claimed entry as failed with the error.
	MarkEmailFailed(ctx context.Context, id account.EmailID, at time.Time, errText string) error
}

// Transport delivers one message; *Sender is the SMTP one. An error for
// which Permanent is true fails the entry at once.
type Transport interface {
	Send(ctx context.Context, e account.Email) error
}

// WorkerOptions tunes a Worker; zero fields take the defaults.
type WorkerOptions struct {
	// BatchSize is how many entries one claim takes: 20.
	BatchSize int
	// Concurrency is how many messages are sent at once: 4.
	Concurrency int
	// Lease is how long a claim holds its entries: 2 minutes. A send still
	// running at 90% of it is cut off, and an entry not yet started is given
	// back, so no entry is ever sent while another worker may hold it.
	// Keep it well above the Sender's SendTimeout.
	Lease time.Duration
	// PollInterval is how often an idle worker looks for due entries: 1 s.
	// Wake makes it look at once.
	PollInterval time.Duration
	// MaxAttempts is how many sends an entry gets before it fails: 8.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the wait after failed attempt n:
	// a random time in [0, min(BackoffMax, BackoffBase·2^(n-1))] ("full
	// jitter"): 30 s and 1 h.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Now is the clock for claims, backoff and outcomes: time.Now.
	Now func() time.Time
	// ShutdownGrace is how long sends in flight may go on once Run's
	// context is cancelled: 10 s. Entries not yet started are given back.
	ShutdownGrace time.Duration
	// Jitter picks the wait in [0, d]: uniformly at random. Tests fix it.
	Jitter func(d time.Duration) time.Duration
}

func (o *WorkerOptions) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 20
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 30 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = time.Hour
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d + 1)
		}
	}
}

// Worker sends the outbox: it claims due entries, sends each, and records
// sent, a retry with backoff, or failed after MaxAttempts (at once for a
// Permanent error). Any number of workers, in any number of processes, may
// share one outbox. It logs entry IDs, templates, statuses and errors,
// never a body, a link or a token.
type Worker struct {
	outbox Outbox
	send   Transport
	log    *slog.Logger
	opts   WorkerOptions
	wake   chan struct{}
}

// NewWorker returns a worker that sends outbox's entries with sender. A nil
// log discards. Without SMTP there is no sender: do not start a worker.
func NewWorker(outbox Outbox, sender Transport, log *slog.Logger, opts WorkerOptions) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts.defaults()
	return &Worker{outbox: outbox, send: sender, log: log, opts: opts, wake: make(chan struct{}, 1)}
}

// Wake makes a waiting worker look for due entries now rather than at the
// next poll: call it after committing an enqueue. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx is cancelled, then returns nil once the sends in
// flight have been recorded. A failing claim (the database is down) is
// logged and tried again at the next poll.
func (w *Worker) Run(ctx context.Context) error {
	if w.send == nil || w.outbox == nil {
		return errors.New("mail: worker needs an outbox and a sender")
	}
	w.log.Info("mail worker started", "batch", w.opts.BatchSize, "concurrency", w.opts.Concurrency,
		"max_attempts", w.opts.MaxAttempts)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			w.log.Info("mail worker stopped")
			return nil
		}
		if err != nil {
			w.log.Error("mail: claim failed", "err", err)
		} else if n == w.opts.BatchSize {
			continue // a full batch: more may be due
		}
		timer.Reset(w.opts.PollInterval)
		select {
		case <-ctx.Done():
			w.log.Info("mail worker stopped")
			return nil
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// RunOnce claims one batch of due entries, sends them and records each
// outcome; it returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	// The lease is measured on the wall clock, whatever Now says: it guards
	// against real time passing while sends run.
	started := time.Now()
	es, err := w.outbox.ClaimEmails(ctx, w.opts.Now(), w.opts.Lease, w.opts.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("mail: claim: %w", err)
	}
	if len(es) == 0 {
		return 0, nil
	}
	// Sends in flight when ctx is cancelled get ShutdownGrace to finish: a
	// message cut off after the server took it would be sent again.
	sendCtx, cancelSend := context.WithDeadline(context.WithoutCancel(ctx), started.Add(w.opts.Lease*9/10))
	defer cancelSend()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(w.opts.ShutdownGrace, cancelSend) })
	defer stop()
	next := make(chan account.Email)
	var wg sync.WaitGroup
	for range min(w.opts.Concurrency, len(es)) {
		wg.Go(func() {
			for e := range next {
				w.deliver(ctx, sendCtx, e)
			}
		})
	}
	for _, e := range es {
		next <- e
	}
	close(next)
	wg.Wait()
	return len(es), nil
}

var errLeaseOver = errors.New("mail: not sent: the claim's lease was running out")

// deliver sends one claimed entry, unless the worker is stopping or the
// lease nearly over (sendCtx is done), and records the outcome.
func (w *Worker) deliver(ctx, sendCtx context.Context, e account.Email) {
	var err error
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case sendCtx.Err() != nil:
		err = errLeaseOver
	default:
		err = w.send.Send(sendCtx, e)
	}
	// Record even while stopping: the send's outcome must not be lost.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	w.record(rctx, ctx.Err() != nil, e, err)
}

func (w *Worker) record(ctx context.Context, stopping bool, e account.Email, sendErr error) {
	now := w.opts.Now()
	log := w.log.With("email_id", int64(e.ID), "template", e.Template, "attempt", e.Attempts)
	var (
		err    error
		status = "sent"
	)
	switch {
	case sendErr == nil:
		err = w.outbox.MarkEmailSent(ctx, e.ID, now)
	case stopping || errors.Is(sendErr, errLeaseOver):
		// Not this message's fault: due again at once, for whoever is left.
		status = "requeued"
		err = w.outbox.MarkEmailRetry(ctx, e.ID, now, errorText(sendErr))
	case Permanent(sendErr) || e.Attempts >= w.opts.MaxAttempts:
		status = "failed"
		err = w.outbox.MarkEmailFailed(ctx, e.ID, now, errorText(sendErr))
	default:
		status = "retry"
		next := now.Add(w.backoff(e.Attempts))
		log = log.With("next_attempt_at", next)
		err = w.outbox.MarkEmailRetry(ctx, e.ID, next, errorText(sendErr))
	}
	switch {
	case err != nil:
		// The lease will lapse and the entry be claimed again: at least once.
		log.Error("mail: cannot record outcome", "status", status, "send_err", errorText(sendErr), "err", err)
	case sendErr == nil:
		log.Info("mail: sent", "status", status)
	case status == "failed":
		log.Error("mail: failed", "status", status, "err", errorText(sendErr))
	default:
		log.Warn("mail: not sent", "status", status, "err", errorText(sendErr))
	}
}

// backoff is the wait after failed attempt n (1, 2, …): full jitter over
// an exponential window.
func (w *Worker) backoff(n int) time.Duration {
	d := w.opts.BackoffBase
	for i := 1; i < n && d < w.opts.BackoffMax; i++ {
		d *= 2
	}
	return w.opts.Jitter(min(d, w.opts.BackoffMax))
}

// maxErrorText bounds the error kept with an entry.
const maxErrorText = 1000

// errorText is err as stored with the entry and shown to administrators:
// valid UTF-8 without NUL bytes (PostgreSQL's TEXT refuses both) and at
// most maxErrorText bytes.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	s := strings.ToValidUTF8(strings.ReplaceAll(err.Error(), "\x00", ""), "?")
	if len(s) > maxErrorText {
		s = strings.ToValidUTF8(s[:maxErrorText], "") + "…"
	}
	return s
}
