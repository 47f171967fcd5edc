package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

func testBatchWrites(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "metro")
	other := mustOrg(t, s, "north")
	var us []*account.User
	var emails []string
	for i := range 250 {
		u := &account.User{Email: fmt.Sprintf("b%03d@example.org", i), Name: fmt.Sprintf("Bätch %03d", i), Kind: account.KindStaff,
			Status: account.StatusInvited, AuthSource: account.AuthLocal, Roles: []string{account.RoleUser}}
		if i%2 == 0 {
			u.Roles = append(u.Roles, account.RoleCommunityManager)
		}
		us = append(us, u)
		emails = append(emails, u.Email)
	}
	err := s.Tx(ctx, func(tx account.Tx) error {
		if err := tx.CreateUsers(ctx, o.ID, us); err != nil {
			return err
		}
		var evs []*account.AuditEvent
		for _, u := range us {
			evs = append(evs, &account.AuditEvent{OrgID: o.ID, At: time.Now(), Action: account.ActionUserCreated, TargetID: &u.ID,
				Outcome: account.OutcomeSuccess, Details: map[string]any{"via": "test"}})
		}
		return tx.AppendAudits(ctx, evs)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx account.Tx) error {
		found, err := tx.UsersByEmails(ctx, o.ID, append(emails, "nobody@example.org"))
		if err != nil {
			return err
		}
		if len(found) != 250 {
			t.Errorf("UsersByEmails found %d, want 250", len(found))
		}
		for i, u := range us {
			got := found[u.Email]
			if u.ID == 0 || got.ID != u.ID || got.Name != u.Name || len(got.Roles) != 1+(1-i%2) {
				t.Fatalf("user %d: created %+v, found %+v", i, u, got)
			}
		}
		if f, _ := tx.UsersByEmails(ctx, other.ID, emails); len(f) != 0 {
			t.Errorf("another organization found %d of them", len(f))
		}
		evs, err := tx.AuditEvents(ctx, o.ID, account.AuditFilter{Action: account.ActionUserCreated, Limit: 1000})
		if len(evs) != 250 {
			t.Errorf("%d audit events, want 250", len(evs))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A taken email fails the whole batch; nothing of it is written.
	err = s.Tx(ctx, func(tx account.Tx) error {
		return tx.CreateUsers(ctx, o.ID, []*account.User{
			{Email: "fresh@example.org", Name: "Fresh", Kind: account.KindStaff, Status: account.StatusInvited, AuthSource: account.AuthLocal},
			{Email: "b001@example.org", Name: "Dup", Kind: account.KindStaff, Status: account.StatusInvited, AuthSource: account.AuthLocal}})
	})
	var e *account.Error
	if !errors.As(err, &e) || e.Code != account.CodeEmailTaken {
		t.Errorf("batch with a taken email: %v", err)
	}
	s.View(ctx, func(tx account.Tx) error {
		if _, err := tx.UserByEmail(ctx, o.ID, "fresh@example.org"); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("a failed batch wrote a user: %v", err)
		}
		return nil
	})
}
