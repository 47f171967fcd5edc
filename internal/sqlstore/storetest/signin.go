package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkey/latchkey/internal/account"
)

// testFinishSignIn: one call writes the session and the audit event, ends
// the attempt, and hands a slot over when asked and the account admits one;
// a failing write leaves nothing behind.
func testFinishSignIn(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "springfield")
	u := mustUser(t, s, o.ID, "ann@example.org")
	begin := func(max int) account.Attempt {
		t.Helper()
		var att account.Attempt
		err := s.Autocommit(ctx, func(tx account.Tx) (err error) {
			att, err = tx.BeginLoginAttempt(ctx, o.ID, u.ID, max, t0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return att
	}
	write := func(tok string) (account.SignInWrite, *account.Session, *account.AuditEvent) {
		sess := &account.Session{OrgID: o.ID, UserID: u.ID, TokenHash: token(tok), CreatedAt: t0, LastSeenAt: t0,
			ExpiresAt: t0.Add(time.Hour), IP: "192.0.2.7", UserAgent: "test"}
		ev := &account.AuditEvent{OrgID: o.ID, At: t0, Action: account.ActionLogin, ActorID: &u.ID, TargetID: &u.ID,
			IP: "192.0.2.7", Outcome: account.OutcomeSuccess, Details: map[string]any{"method": "password"}}
		return account.SignInWrite{Session: sess, Event: ev, At: t0,
			End: account.AttemptEnd{Outcome: account.AttemptSucceeded, MaxFailures: 2}}, sess, ev
	}

	// A plain sign-in: the slot it held is free again afterwards.
	if att := begin(1); !att.Admitted {
		t.Fatalf("first attempt not admitted: %+v", att)
	}
	w, sess, ev := write("one")
	handed, err := s.FinishSignIn(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if handed.Admitted {
		t.Error("FinishSignIn without HandOver handed a slot over")
	}
	if sess.ID == 0 || ev.ID == 0 {
		t.Errorf("IDs not set: session %d, event %d", sess.ID, ev.ID)
	}
	view(t, s, func(tx account.Tx) error {
		got, err := tx.SessionByTokenHash(ctx, token("one"))
		if err != nil {
			return err
		}
		if diff := cmp.Diff(*sess, got); diff != "" {
			t.Errorf("session (-want +got):\n%s", diff)
		}
		evs, err := tx.AuditEvents(ctx, o.ID, account.AuditFilter{TargetID: &u.ID})
		if err != nil {
			return err
		}
		if len(evs) != 1 || evs[0].ID != ev.ID || evs[0].Action != account.ActionLogin {
			t.Errorf("audit events = %+v, want the one sign-in", evs)
		}
		usr, err := tx.UserByID(ctx, o.ID, u.ID)
		if err != nil {
			return err
		}
		if usr.LastLoginAt == nil || !usr.LastLoginAt.Equal(t0) {
			t.Errorf("last_login_at = %v, want %v", usr.LastLoginAt, t0)
		}
		return nil
	})
	if att := begin(1); !att.Admitted {
		t.Errorf("the slot of a finished sign-in is still held: %+v", att)
	}

	// Handing over: the slot stays held, now for the next sign-in.
	w, _, _ = write("two")
	w.HandOver = true
	handed, err = s.FinishSignIn(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if !handed.Admitted {
		t.Errorf("FinishSignIn with HandOver = %+v, want a slot", handed)
	}
	if att := begin(1); att.Admitted {
		t.Error("a slot handed over is free: it was given back instead")
	}

	// The account admits no more (a failure came while the attempt ran):
	// nothing is handed over and the slot is given back.
	update(t, s, func(tx account.Tx) error {
		if _, err := tx.RecordLoginFailure(ctx, o.ID, u.ID, t0); err != nil {
			return err
		}
		_, err := tx.RecordLoginFailure(ctx, o.ID, u.ID, t0)
		return err
	})
	w, _, _ = write("three")
	w.HandOver = true
	handed, err = s.FinishSignIn(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if handed.Admitted {
		t.Errorf("FinishSignIn handed a slot over with 2 failures of 2: %+v", handed)
	}

	// A session of a user who does not exist fails, and its audit event is
	// not written either.
	w, _, _ = write("four")
	w.Session.UserID = u.ID + 1000
	if _, err := s.FinishSignIn(ctx, w); err == nil {
		t.Error("FinishSignIn for a missing user succeeded")
	}
	view(t, s, func(tx account.Tx) error {
		evs, err := tx.AuditEvents(ctx, o.ID, account.AuditFilter{})
		if err != nil {
			return err
		}
		if len(evs) != 3 {
			t.Errorf("%d audit events after a failed FinishSignIn, want the 3 of the sign-ins before", len(evs))
		}
		_, err = tx.SessionByTokenHash(ctx, token("four"))
		wantNotFound(t, "the session of a failed FinishSignIn", err)
		return nil
	})
}
