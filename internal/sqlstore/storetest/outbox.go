package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchkey/latchkey/internal/account"
)

// Outbox is what the mail worker needs of a store beside account.Tx: the
// claim and the outcomes, outside any use case's transaction. The store
// under test must implement it.
type Outbox interface {
	ClaimEmails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]account.Email, error)
	MarkEmailSent(ctx context.Context, id account.EmailID, at time.Time) error
	MarkEmailRetry(ctx context.Context, id account.EmailID, next time.Time, errText string) error
	MarkEmailFailed(ctx context.Context, id account.EmailID, at time.Time, errText string) error
}

func outboxOf(t *testing.T, s account.Store) Outbox {
	t.Helper()
	o, ok := s.(Outbox)
	if !ok {
		t.Fatalf("%T does not implement storetest.Outbox (ClaimEmails, MarkEmail…)", s)
	}
	return o
}

func newEmail(org account.OrgID, user *account.UserID, to, template string, due time.Time) account.Email {
	return account.Email{
		OrgID: org, UserID: user, To: to, FromName: "Metro Fire", Template: template,
		Subject: "Reset your Metro Fire password", TextBody: "text for " + to, HTMLBody: "<p>html for " + to + "</p>",
		NextAttemptAt: due, CreatedAt: t0,
	}
}

func mustEnqueue(t *testing.T, s account.Store, e account.Email) account.Email {
	t.Helper()
	update(t, s, func(tx account.Tx) error { return tx.EnqueueEmail(context.Background(), &e) })
	if e.ID == 0 {
		t.Fatal("EnqueueEmail left ID 0")
	}
	return e
}

func getEmail(t *testing.T, s account.Store, org account.OrgID, id account.EmailID) account.Email {
	t.Helper()
	var e account.Email
	view(t, s, func(tx account.Tx) (err error) {
		e, err = tx.EmailByID(context.Background(), org, id)
		return err
	})
	return e
}

func listEmails(t *testing.T, s account.Store, org account.OrgID, f account.EmailFilter) []account.EmailID {
	t.Helper()
	var ids []account.EmailID
	view(t, s, func(tx account.Tx) error {
		es, err := tx.ListEmails(context.Background(), org, f)
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		return err
	})
	return ids
}

func claimIDs(es []account.Email) []account.EmailID {
	var ids []account.EmailID
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func ptr[T any](v T) *T { return &v }

func testOutboxEnqueueAndList(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustOrg(t, s, "metro-fire")
	b := mustOrg(t, s, "springfield")
	ann := mustUser(t, s, a.ID, "ann@example.org")
	bob := mustUser(t, s, a.ID, "bob@example.org")
	carl := mustUser(t, s, b.ID, "carl@example.org")

	want := newEmail(a.ID, &ann.ID, ann.Email, account.TemplateReset, t0.Add(time.Second))
	want = mustEnqueue(t, s, want)
	want.Status = account.EmailQueued
	if got := getEmail(t, s, a.ID, want.ID); !cmp.Equal(want, got) {
		t.Errorf("EmailByID (-want +got):\n%s", cmp.Diff(want, got))
	}
	e2 := mustEnqueue(t, s, newEmail(a.ID, &bob.ID, bob.Email, account.TemplateWelcome, t0))
	e3 := mustEnqueue(t, s, newEmail(a.ID, nil, "old@example.org", account.TemplateEmailChanged, t0))
	e4 := mustEnqueue(t, s, newEmail(a.ID, &ann.ID, ann.Email, account.TemplatePasswordChanged, t0))
	c1 := mustEnqueue(t, s, newEmail(b.ID, &carl.ID, carl.Email, account.TemplateReset, t0))
	if e3.UserID != nil || getEmail(t, s, a.ID, e3.ID).UserID != nil {
		t.Errorf("entry without a user came back with one")
	}

	view(t, s, func(tx account.Tx) error {
		_, err := tx.EmailByID(ctx, b.ID, want.ID)
		wantNotFound(t, "EmailByID(other org's entry)", err)
		_, err = tx.EmailByID(ctx, a.ID, 1<<40)
		wantNotFound(t, "EmailByID(missing)", err)
		return nil
	})
	err := s.Tx(ctx, func(tx account.Tx) error {
		e := newEmail(a.ID, &carl.ID, carl.Email, account.TemplateReset, t0)
		return tx.EnqueueEmail(ctx, &e)
	})
	wantNotFound(t, "EnqueueEmail(user of another org)", err)

	tests := []struct {
		name string
		org  account.OrgID
		f    account.EmailFilter
		want []account.EmailID
	}{
		{"all", a.ID, account.EmailFilter{}, []account.EmailID{e4.ID, e3.ID, e2.ID, want.ID}},
		{"other org", b.ID, account.EmailFilter{}, []account.EmailID{c1.ID}},
		{"user", a.ID, account.EmailFilter{UserID: &ann.ID}, []account.EmailID{e4.ID, want.ID}},
		{"other org's user", a.ID, account.EmailFilter{UserID: &carl.ID}, nil},
		{"status queued", a.ID, account.EmailFilter{Status: account.EmailQueued}, []account.EmailID{e4.ID, e3.ID, e2.ID, want.ID}},
		{"status sent", a.ID, account.EmailFilter{Status: account.EmailSent}, nil},
		{"limit", a.ID, account.EmailFilter{Limit: 2}, []account.EmailID{e4.ID, e3.ID}},
		{"before", a.ID, account.EmailFilter{BeforeID: e3.ID, Limit: 2}, []account.EmailID{e2.ID, want.ID}},
		{"user before", a.ID, account.EmailFilter{UserID: &ann.ID, BeforeID: e4.ID}, []account.EmailID{want.ID}},
	}
	for _, tt := range tests {
		if got := listEmails(t, s, tt.org, tt.f); !cmp.Equal(tt.want, got, cmpopts.EquateEmpty()) {
			t.Errorf("ListEmails(%s, %+v) = %v, want %v", tt.name, tt.f, got, tt.want)
		}
	}

	// The entries outlive their user, still naming it.
	update(t, s, func(tx account.Tx) error { return tx.DeleteUser(ctx, a.ID, ann.ID) })
	if got := listEmails(t, s, a.ID, account.EmailFilter{UserID: &ann.ID}); len(got) != 2 {
		t.Errorf("ListEmails(deleted user) = %v, want the 2 entries kept", got)
	}
}

func testOutboxCount(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "metro-fire")
	p := mustOrg(t, s, "springfield")
	ann := mustUser(t, s, o.ID, "ann@example.org")
	bob := mustUser(t, s, o.ID, "bob@example.org")
	for i := range 4 {
		e := newEmail(o.ID, &ann.ID, ann.Email, account.TemplateReset, t0)
		e.CreatedAt = t0.Add(time.Duration(i) * 20 * time.Minute) // t0, +20m, +40m, +60m
		mustEnqueue(t, s, e)
	}
	mustEnqueue(t, s, newEmail(o.ID, &ann.ID, ann.Email, account.TemplateWelcome, t0))
	mustEnqueue(t, s, newEmail(o.ID, &bob.ID, bob.Email, account.TemplateReset, t0))
	tests := []struct {
		org      account.OrgID
		user     account.UserID
		template string
		since    time.Time
		want     int
	}{
		{o.ID, ann.ID, account.TemplateReset, t0.Add(-time.Hour), 4},
		{o.ID, ann.ID, account.TemplateReset, t0, 4}, // inclusive
		{o.ID, ann.ID, account.TemplateReset, t0.Add(time.Microsecond), 3},
		{o.ID, ann.ID, account.TemplateReset, t0.Add(40 * time.Minute), 2},
		{o.ID, ann.ID, account.TemplateReset, t0.Add(2 * time.Hour), 0},
		{o.ID, ann.ID, account.TemplateWelcome, t0, 1},
		{o.ID, bob.ID, account.TemplateReset, t0, 1},
		{p.ID, ann.ID, account.TemplateReset, t0, 0},
	}
	for _, tt := range tests {
		view(t, s, func(tx account.Tx) error {
			n, err := tx.CountEmails(ctx, tt.org, tt.user, tt.template, tt.since)
			if err != nil {
				return err
			}
			if n != tt.want {
				t.Errorf("CountEmails(org %d, user %d, %s, since %v) = %d, want %d", tt.org, tt.user, tt.template, tt.since, n, tt.want)
			}
			return nil
		})
	}
}

func testOutboxClaim(t *testing.T, s account.Store) {
	ctx := context.Background()
	ob := outboxOf(t, s)
	o := mustOrg(t, s, "metro-fire")
	ann := mustUser(t, s, o.ID, "ann@example.org")
	const lease = 2 * time.Minute
	e1 := mustEnqueue(t, s, newEmail(o.ID, &ann.ID, "e1@example.org", account.TemplateReset, t0))
	e2 := mustEnqueue(t, s, newEmail(o.ID, &ann.ID, "e2@example.org", account.TemplateReset, t0.Add(time.Hour)))
	e3 := mustEnqueue(t, s, newEmail(o.ID, &ann.ID, "e3@example.org", account.TemplateReset, t0.Add(-time.Minute)))

	claim := func(now time.Time, limit int) []account.Email {
		t.Helper()
		es, err := ob.ClaimEmails(ctx, now, lease, limit)
		if err != nil {
			t.Fatalf("ClaimEmails(%v): %v", now, err)
		}
		return es
	}
	got := claim(t0, 10)
	if ids := claimIDs(got); !slices.Equal(ids, []account.EmailID{e3.ID, e1.ID}) {
		t.Fatalf("ClaimEmails(t0) = %v, want the due ones, oldest due first: [%d %d]", ids, e3.ID, e1.ID)
	}
	want := e3
	want.Status, want.Attempts = account.EmailQueued, 1
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("claimed entry, with its bodies (-want +got):\n%s", diff)
	}
	if ids := claimIDs(claim(t0, 10)); len(ids) != 0 {
		t.Errorf("ClaimEmails again while leased = %v, want none", ids)
	}
	if ids := claimIDs(claim(t0.Add(lease-time.Microsecond), 10)); len(ids) != 0 {
		t.Errorf("ClaimEmails just before the lease ends = %v, want none", ids)
	}
	got = claim(t0.Add(lease), 1)
	if ids := claimIDs(got); !slices.Equal(ids, []account.EmailID{e3.ID}) {
		t.Fatalf("ClaimEmails(limit 1) after the lease = %v, want [%d]", ids, e3.ID)
	}
	if got[0].Attempts != 2 {
		t.Errorf("attempts after the second claim = %d, want 2", got[0].Attempts)
	}
	now := t0.Add(lease)

	// Sent: bodies gone, never claimed again, recorded once.
	if err := ob.MarkEmailSent(ctx, e3.ID, now); err != nil {
		t.Fatalf("MarkEmailSent: %v", err)
	}
	sent := getEmail(t, s, o.ID, e3.ID)
	if sent.Status != account.EmailSent || sent.TextBody != "" || sent.HTMLBody != "" || sent.SentAt == nil ||
		!sent.SentAt.Equal(now) || sent.Subject == "" || sent.To != e3.To {
		t.Errorf("after MarkEmailSent: %+v, want status sent, sent_at %v, no bodies, metadata kept", sent, now)
	}
	wantNotFound(t, "MarkEmailSent(twice)", ob.MarkEmailSent(ctx, e3.ID, now))
	wantNotFound(t, "MarkEmailRetry(sent)", ob.MarkEmailRetry(ctx, e3.ID, now, "x"))
	wantNotFound(t, "MarkEmailSent(never claimed)", ob.MarkEmailSent(ctx, e2.ID, now))

	// Retry: due again at next, with the error.
	e1c := claim(now, 10)
	if ids := claimIDs(e1c); !slices.Equal(ids, []account.EmailID{e1.ID}) {
		t.Fatalf("ClaimEmails after the lease = %v, want [%d]", ids, e1.ID)
	}
	next := now.Add(10 * time.Minute)
	if err := ob.MarkEmailRetry(ctx, e1.ID, next, "421 4.3.0 try later"); err != nil {
		t.Fatalf("MarkEmailRetry: %v", err)
	}
	r := getEmail(t, s, o.ID, e1.ID)
	if r.Status != account.EmailQueued || !r.NextAttemptAt.Equal(next) || r.LastError != "421 4.3.0 try later" || r.Attempts != 2 {
		t.Errorf("after MarkEmailRetry: %+v, want queued, next %v, the error, 2 attempts", r, next)
	}
	if ids := claimIDs(claim(next.Add(-time.Microsecond), 10)); len(ids) != 0 {
		t.Errorf("ClaimEmails before the retry is due = %v, want none", ids)
	}
	if ids := claimIDs(claim(next, 10)); !slices.Equal(ids, []account.EmailID{e1.ID}) {
		t.Fatalf("ClaimEmails when the retry is due = %v, want [%d]", ids, e1.ID)
	}

	// Failed: kept with its bodies and the error, not claimed, requeueable.
	if err := ob.MarkEmailFailed(ctx, e1.ID, next, "554 5.7.1 rejected"); err != nil {
		t.Fatalf("MarkEmailFailed: %v", err)
	}
	f := getEmail(t, s, o.ID, e1.ID)
	if f.Status != account.EmailFailed || f.LastError != "554 5.7.1 rejected" || f.TextBody == "" || f.Attempts != 3 {
		t.Errorf("after MarkEmailFailed: %+v, want failed, the error, bodies kept, 3 attempts", f)
	}
	later := next.Add(24 * time.Hour)
	if ids := claimIDs(claim(later, 10)); !slices.Equal(ids, []account.EmailID{e2.ID}) {
		t.Errorf("ClaimEmails a day later = %v, want only [%d]: sent and failed entries stay put", ids, e2.ID)
	}
	wantNotFound(t, "MarkEmailFailed(not claimed)", ob.MarkEmailFailed(ctx, e1.ID, later, "x"))

	// Requeue: a failed entry, due now, attempts reset; not a sent one, not
	// another organization's.
	p := mustOrg(t, s, "springfield")
	err := s.Tx(ctx, func(tx account.Tx) error { return tx.RequeueEmail(ctx, p.ID, e1.ID, later) })
	wantNotFound(t, "RequeueEmail(other org's entry)", err)
	err = s.Tx(ctx, func(tx account.Tx) error { return tx.RequeueEmail(ctx, o.ID, e3.ID, later) })
	wantNotFound(t, "RequeueEmail(sent)", err)
	update(t, s, func(tx account.Tx) error { return tx.RequeueEmail(ctx, o.ID, e1.ID, later) })
	q := getEmail(t, s, o.ID, e1.ID)
	if q.Status != account.EmailQueued || q.Attempts != 0 || q.LastError != "" || !q.NextAttemptAt.Equal(later) {
		t.Errorf("after RequeueEmail: %+v, want queued, 0 attempts, no error, due %v", q, later)
	}
	if ids := claimIDs(claim(later, 10)); !slices.Equal(ids, []account.EmailID{e1.ID}) {
		t.Errorf("ClaimEmails after RequeueEmail = %v, want [%d]", ids, e1.ID)
	}
}

// testOutboxClaimConcurrent claims from many goroutines of one store: every
// entry comes out exactly once.
func testOutboxClaimConcurrent(t *testing.T, s account.Store) {
	ctx := context.Background()
	ob := outboxOf(t, s)
	o := mustOrg(t, s, "metro-fire")
	const n = 100
	update(t, s, func(tx account.Tx) error {
		for i := range n {
			e := newEmail(o.ID, nil, fmt.Sprintf("u%d@example.org", i), account.TemplateReset, t0)
			if err := tx.EnqueueEmail(ctx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	var (
		mu   sync.Mutex
		seen = map[account.EmailID]int{}
		wg   sync.WaitGroup
	)
	for range 20 {
		wg.Go(func() {
			for {
				es, err := ob.ClaimEmails(ctx, t0, time.Hour, 7)
				if err != nil {
					t.Errorf("ClaimEmails: %v", err)
					return
				}
				if len(es) == 0 {
					return
				}
				mu.Lock()
				for _, e := range es {
					seen[e.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d entries claimed, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("entry %d claimed %d times", id, c)
		}
	}
}

func newResetToken(u account.User, tok string, created, expires time.Time) account.ResetToken {
	return account.ResetToken{
		OrgID: u.OrgID, UserID: u.ID, Purpose: account.PurposeReset, TokenHash: token(tok),
		CodeHash: token("code-" + tok), CodeSalt: []byte("salt-" + tok), CreatedAt: created, ExpiresAt: expires,
	}
}

func mustResetToken(t *testing.T, s account.Store, r account.ResetToken) account.ResetToken {
	t.Helper()
	update(t, s, func(tx account.Tx) error { return tx.CreateResetToken(context.Background(), &r) })
	if r.ID == 0 {
		t.Fatal("CreateResetToken left ID 0")
	}
	return r
}

func resetByHash(s account.Store, tok string, now time.Time) (account.ResetToken, error) {
	var r account.ResetToken
	err := s.View(context.Background(), func(tx account.Tx) (err error) {
		r, err = tx.ResetTokenByHash(context.Background(), token(tok), now)
		return err
	})
	return r, err
}

func latestReset(s account.Store, u account.User, max int, now time.Time) (account.ResetToken, error) {
	var r account.ResetToken
	err := s.View(context.Background(), func(tx account.Tx) (err error) {
		r, err = tx.LatestResetToken(context.Background(), u.OrgID, u.ID, max, now)
		return err
	})
	return r, err
}

func consumeReset(s account.Store, id int64, now time.Time) error {
	return s.Tx(context.Background(), func(tx account.Tx) error {
		return tx.ConsumeResetToken(context.Background(), id, now)
	})
}

func testResetTokens(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "metro-fire")
	p := mustOrg(t, s, "springfield")
	ann := mustUser(t, s, o.ID, "ann@example.org")
	carl := mustUser(t, s, p.ID, "carl@example.org")
	exp := t0.Add(time.Hour)
	want := mustResetToken(t, s, newResetToken(ann, "ann-1", t0, exp))

	got, err := resetByHash(s, "ann-1", t0)
	if err != nil {
		t.Fatalf("ResetTokenByHash: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ResetTokenByHash (-want +got):\n%s", diff)
	}
	_, err = resetByHash(s, "unknown", t0)
	wantNotFound(t, "ResetTokenByHash(unknown)", err)
	for _, now := range []time.Time{exp, exp.Add(time.Microsecond)} {
		_, err = resetByHash(s, "ann-1", now)
		wantNotFound(t, fmt.Sprintf("ResetTokenByHash(expires %v, now %v)", exp, now), err)
		_, err = latestReset(s, ann, 5, now)
		wantNotFound(t, fmt.Sprintf("LatestResetToken(expires %v, now %v)", exp, now), err)
		wantNotFound(t, fmt.Sprintf("ConsumeResetToken(expires %v, now %v)", exp, now), consumeReset(s, want.ID, now))
	}

	// A user of another organization cannot be given a token.
	err = s.Tx(ctx, func(tx account.Tx) error {
		r := newResetToken(carl, "carl-x", t0, exp)
		r.OrgID = o.ID
		return tx.CreateResetToken(ctx, &r)
	})
	wantNotFound(t, "CreateResetToken(user of another org)", err)

	// Consumed once: then neither found by hash nor as the latest.
	if err := consumeReset(s, want.ID, t0); err != nil {
		t.Fatalf("ConsumeResetToken: %v", err)
	}
	wantNotFound(t, "ConsumeResetToken(twice)", consumeReset(s, want.ID, t0))
	_, err = resetByHash(s, "ann-1", t0)
	wantNotFound(t, "ResetTokenByHash(consumed)", err)
	_, err = latestReset(s, ann, 5, t0)
	wantNotFound(t, "LatestResetToken(only one consumed)", err)
	wantNotFound(t, "ConsumeResetToken(missing)", consumeReset(s, 1<<40, t0))
}

func testResetTokenConsumedOnce(t *testing.T, s account.Store) {
	o := mustOrg(t, s, "metro-fire")
	ann := mustUser(t, s, o.ID, "ann@example.org")
	r := mustResetToken(t, s, newResetToken(ann, "race", t0, t0.Add(time.Hour)))
	const n = 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range n {
		wg.Go(func() {
			err := consumeReset(s, r.ID, t0.Add(time.Minute))
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, account.ErrNotFound):
				t.Errorf("ConsumeResetToken: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent ConsumeResetToken: %d succeeded, want exactly 1", n, wins)
	}
}

func testResetTokensInvalidate(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "metro-fire")
	ann := mustUser(t, s, o.ID, "ann@example.org")
	bob := mustUser(t, s, o.ID, "bob@example.org")
	exp := t0.Add(time.Hour)
	a1 := mustResetToken(t, s, newResetToken(ann, "ann-1", t0, exp))
	a2 := mustResetToken(t, s, newResetToken(ann, "ann-2", t0.Add(time.Second), exp))
	mustResetToken(t, s, newResetToken(bob, "bob-1", t0, exp))

	got, err := latestReset(s, ann, 5, t0)
	if err != nil || got.ID != a2.ID {
		t.Fatalf("LatestResetToken = %d, %v; want the newer %d", got.ID, err, a2.ID)
	}

	update(t, s, func(tx account.Tx) error { return tx.InvalidateResetTokens(ctx, o.ID, ann.ID) })
	for _, tok := range []string{"ann-1", "ann-2"} {
		_, err := resetByHash(s, tok, t0)
		wantNotFound(t, "ResetTokenByHash("+tok+") after InvalidateResetTokens", err)
	}
	_, err = latestReset(s, ann, 5, t0)
	wantNotFound(t, "LatestResetToken after InvalidateResetTokens", err)
	wantNotFound(t, "ConsumeResetToken after InvalidateResetTokens", consumeReset(s, a1.ID, t0))
	if _, err := resetByHash(s, "bob-1", t0); err != nil {
		t.Errorf("another user's token after InvalidateResetTokens: %v", err)
	}
	// Another organization's call touches nothing.
	p := mustOrg(t, s, "springfield")
	update(t, s, func(tx account.Tx) error { return tx.InvalidateResetTokens(ctx, p.ID, bob.ID) })
	if _, err := resetByHash(s, "bob-1", t0); err != nil {
		t.Errorf("token after another org's InvalidateResetTokens: %v", err)
	}
	// Tokens go with their user.
	update(t, s, func(tx account.Tx) error { return tx.DeleteUser(ctx, o.ID, bob.ID) })
	_, err = resetByHash(s, "bob-1", t0)
	wantNotFound(t, "ResetTokenByHash(deleted user's)", err)
}

func testResetCodeAttempts(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "metro-fire")
	ann := mustUser(t, s, o.ID, "ann@example.org")
	exp := t0.Add(time.Hour)
	old := mustResetToken(t, s, newResetToken(ann, "old", t0, exp))
	r := mustResetToken(t, s, newResetToken(ann, "new", t0.Add(time.Second), exp))
	const max = 5
	for i := 1; i <= max; i++ {
		got, err := latestReset(s, ann, max, t0)
		if err != nil || got.ID != r.ID || got.CodeAttempts != i-1 {
			t.Fatalf("LatestResetToken before failure %d = id %d, attempts %d, %v; want id %d, attempts %d",
				i, got.ID, got.CodeAttempts, err, r.ID, i-1)
		}
		var n int
		update(t, s, func(tx account.Tx) (err error) {
			n, err = tx.RecordCodeFailure(ctx, r.ID)
			return err
		})
		if n != i {
			t.Errorf("RecordCodeFailure #%d = %d", i, n)
		}
	}
	// The newest token is used up for codes; the older one must not stand in.
	_, err := latestReset(s, ann, max, t0)
	wantNotFound(t, fmt.Sprintf("LatestResetToken after %d wrong codes (older token %d still open)", max, old.ID), err)
	if got, err := latestReset(s, ann, max+1, t0); err != nil || got.ID != r.ID {
		t.Errorf("LatestResetToken(max %d) = %d, %v; want %d", max+1, got.ID, err, r.ID)
	}
	_, err = latestReset(s, ann, 0, t0)
	wantNotFound(t, "LatestResetToken(maxAttempts 0)", err)
	err = s.Tx(ctx, func(tx account.Tx) error {
		_, err := tx.RecordCodeFailure(ctx, 1<<40)
		return err
	})
	wantNotFound(t, "RecordCodeFailure(missing)", err)
}

func testResetCodeFailureConcurrent(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "metro-fire")
	ann := mustUser(t, s, o.ID, "ann@example.org")
	r := mustResetToken(t, s, newResetToken(ann, "tok", t0, t0.Add(time.Hour)))
	const n = 20
	var wg sync.WaitGroup
	counts := make(chan int, n)
	for range n {
		wg.Go(func() {
			err := s.Tx(ctx, func(tx account.Tx) error {
				c, err := tx.RecordCodeFailure(ctx, r.ID)
				counts <- c
				return err
			})
			if err != nil {
				t.Errorf("RecordCodeFailure: %v", err)
			}
		})
	}
	wg.Wait()
	close(counts)
	seen := map[int]bool{}
	for c := range counts {
		if seen[c] {
			t.Errorf("RecordCodeFailure returned %d twice", c)
		}
		seen[c] = true
	}
	got, err := latestReset(s, ann, n+1, t0)
	if err != nil || got.CodeAttempts != n {
		t.Errorf("code attempts after %d concurrent failures = %d (%v), want %d", n, got.CodeAttempts, err, n)
	}
}
