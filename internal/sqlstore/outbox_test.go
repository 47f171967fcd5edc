package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// TestPostgresClaimTwoProcesses claims from two DB handles on one database,
// as two serve processes would, several claimers each: every one of 200
// entries is claimed exactly once, none twice, none missed.
func TestPostgresClaimTwoProcesses(t *testing.T) {
	url := postgresURL(t)
	a := mustOpen(t, url)
	b := mustOpen(t, url)
	ctx := context.Background()
	now := time.Now()

	o := account.Org{Slug: "metro-fire", Name: "Metro Fire", Settings: account.DefaultSettings(), CreatedAt: now}
	const n = 200
	err := a.Tx(ctx, func(tx account.Tx) error {
		if err := tx.CreateOrg(ctx, &o); err != nil {
			return err
		}
		for i := range n {
			e := account.Email{OrgID: o.ID, To: fmt.Sprintf("u%d@example.org", i), FromName: o.Name,
				Template: account.TemplateReset, Subject: "s", TextBody: "t", HTMLBody: "h", CreatedAt: now}
			if err := tx.EnqueueEmail(ctx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu   sync.Mutex
		seen = map[account.EmailID]int{}
		by   = map[*DB]int{}
		wg   sync.WaitGroup
	)
	for _, db := range []*DB{a, b} {
		for range 4 {
			wg.Go(func() {
				for {
					es, err := db.ClaimEmails(ctx, now, time.Hour, 5)
					if err != nil {
						t.Errorf("ClaimEmails: %v", err)
						return
					}
					if len(es) == 0 {
						return
					}
					for _, e := range es {
						if err := db.MarkEmailSent(ctx, e.ID, now); err != nil {
							t.Errorf("MarkEmailSent(%d): %v", e.ID, err)
						}
					}
					mu.Lock()
					for _, e := range es {
						seen[e.ID]++
					}
					by[db] += len(es)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d distinct entries claimed, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("entry %d claimed %d times", id, c)
		}
	}
	t.Logf("claimed by process a: %d, by b: %d", by[a], by[b])
}
