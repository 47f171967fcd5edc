package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchkey/latchkey/internal/account"
)

func newImportJob(org account.OrgID, actor *account.UserID, file string) account.ImportJob {
	return account.ImportJob{
		OrgID: org, ActorID: actor, Status: account.ImportRunning, Format: "csv",
		File: []byte(file), Total: 3, CreatedAt: t0, UpdatedAt: t0,
	}
}

func mustImportJob(t *testing.T, s account.Store, j account.ImportJob) account.ImportJob {
	t.Helper()
	update(t, s, func(tx account.Tx) error { return tx.CreateImportJob(context.Background(), &j) })
	if j.ID == 0 {
		t.Fatalf("CreateImportJob left ID 0")
	}
	return j
}

func getImportJob(t *testing.T, s account.Store, org account.OrgID, id int64) account.ImportJob {
	t.Helper()
	var j account.ImportJob
	view(t, s, func(tx account.Tx) error {
		var err error
		j, err = tx.ImportJobByID(context.Background(), org, id)
		return err
	})
	return j
}

// claimImport claims in a transaction of its own; ok is false for ErrNotFound.
func claimImport(t *testing.T, s account.Store, now time.Time, lease time.Duration) (account.ImportJob, bool) {
	t.Helper()
	var j account.ImportJob
	err := s.Tx(context.Background(), func(tx account.Tx) error {
		var err error
		j, err = tx.ClaimImportJob(context.Background(), now, lease)
		return err
	})
	if errors.Is(err, account.ErrNotFound) {
		return account.ImportJob{}, false
	}
	if err != nil {
		t.Fatalf("ClaimImportJob(%v): %v", now, err)
	}
	return j, true
}

// testImportJobRoundTrip creates, reads and updates a job, file included,
// and checks that another organization cannot see or change it.
func testImportJobRoundTrip(t *testing.T, s account.Store) {
	ctx := context.Background()
	o := mustOrg(t, s, "metro-fire")
	other := mustOrg(t, s, "county-ems")
	ann := mustUser(t, s, o.ID, "ann@example.org")
	// Every byte value, so that neither dialect treats the file as text.
	file := make([]byte, 512)
	for i := range file {
		file[i] = byte(i)
	}
	j := newImportJob(o.ID, &ann.ID, string(file))
	j.AllOrNothing, j.Format = true, "xlsx"
	j = mustImportJob(t, s, j)

	got := getImportJob(t, s, o.ID, j.ID)
	if diff := cmp.Diff(j, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("ImportJobByID after create (-want +got):\n%s", diff)
	}

	lease := t0.Add(time.Minute)
	done := t0.Add(2 * time.Minute)
	j.Status, j.Processed, j.Created, j.Updated, j.Unchanged, j.Failed = account.ImportDone, 3, 1, 1, 0, 1
	j.Result = []byte(`{"rows":[{"row":2,"email":"ann@example.org","action":"create"}]}`)
	j.Error, j.LeaseUntil, j.FinishedAt, j.UpdatedAt, j.File = "one row rejected", &lease, &done, done, nil
	update(t, s, func(tx account.Tx) error { return tx.UpdateImportJob(ctx, &j) })
	got = getImportJob(t, s, o.ID, j.ID)
	if diff := cmp.Diff(j, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("ImportJobByID after update (-want +got):\n%s", diff)
	}

	// No actor (the CLI), and a second job.
	j2 := mustImportJob(t, s, newImportJob(o.ID, nil, "email\n"))
	if got := getImportJob(t, s, o.ID, j2.ID); got.ActorID != nil || got.ID == j.ID {
		t.Errorf("second job = ID %d, actor %v; want a new ID and no actor", got.ID, got.ActorID)
	}

	view(t, s, func(tx account.Tx) error {
		_, err := tx.ImportJobByID(ctx, other.ID, j.ID)
		wantNotFound(t, "ImportJobByID(other org)", err)
		_, err = tx.ImportJobByID(ctx, o.ID, j2.ID+1000)
		wantNotFound(t, "ImportJobByID(missing)", err)
		return nil
	})
	err := s.Tx(ctx, func(tx account.Tx) error {
		w := j
		w.OrgID, w.Status = other.ID, account.ImportFailed
		return tx.UpdateImportJob(ctx, &w)
	})
	wantNotFound(t, "UpdateImportJob(other org)", err)
	if got := getImportJob(t, s, o.ID, j.ID); got.Status != account.ImportDone {
		t.Errorf("after another org's update, status = %q, want %q", got.Status, account.ImportDone)
	}
	err = s.Tx(ctx, func(tx account.Tx) error {
		w := newImportJob(other.ID+1000, nil, "")
		return tx.CreateImportJob(ctx, &w)
	})
	wantNotFound(t, "CreateImportJob(missing org)", err)
}

// testImportJobClaim claims only running jobs whose lease is unset or has
// lapsed, oldest first, across organizations.
func testImportJobClaim(t *testing.T, s account.Store) {
	ctx := context.Background()
	a := mustOrg(t, s, "metro-fire")
	b := mustOrg(t, s, "county-ems")
	const lease = 5 * time.Minute

	if _, ok := claimImport(t, s, t0, lease); ok {
		t.Fatalf("ClaimImportJob with no jobs succeeded")
	}
	finished := newImportJob(a.ID, nil, "done")
	finished.Status = account.ImportDone
	mustImportJob(t, s, finished)
	failed := newImportJob(a.ID, nil, "failed")
	failed.Status = account.ImportFailed
	mustImportJob(t, s, failed)
	held := newImportJob(a.ID, nil, "held")
	until := t0.Add(time.Minute)
	held.LeaseUntil = &until
	held = mustImportJob(t, s, held)
	fresh := mustImportJob(t, s, newImportJob(b.ID, nil, "fresh")) // never started

	j, ok := claimImport(t, s, t0, lease)
	if !ok || j.ID != fresh.ID {
		t.Fatalf("ClaimImportJob(t0) = %d, %v; want the unleased running job %d", j.ID, ok, fresh.ID)
	}
	want := fresh
	want.LeaseUntil = ptr(t0.Add(lease))
	if diff := cmp.Diff(want, j, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("claimed job, with its file (-want +got):\n%s", diff)
	}
	if got := getImportJob(t, s, b.ID, fresh.ID); got.LeaseUntil == nil || !got.LeaseUntil.Equal(t0.Add(lease)) {
		t.Errorf("stored lease = %v, want %v", got.LeaseUntil, t0.Add(lease))
	}
	if j, ok := claimImport(t, s, t0, lease); ok {
		t.Errorf("ClaimImportJob(t0) again = %d, want none: every running job is leased", j.ID)
	}
	if j, ok := claimImport(t, s, until.Add(-time.Microsecond), lease); ok {
		t.Errorf("ClaimImportJob just before the lease lapses = %d, want none", j.ID)
	}
	// At until, held's lease has lapsed; fresh's (t0+5m) has not.
	if j, ok := claimImport(t, s, until, lease); !ok || j.ID != held.ID {
		t.Errorf("ClaimImportJob(lease lapsed) = %d, %v; want %d", j.ID, ok, held.ID)
	}
	// Both lapsed: the oldest first.
	later := until.Add(lease)
	if j, ok := claimImport(t, s, later, lease); !ok || j.ID != held.ID {
		t.Errorf("ClaimImportJob(both lapsed) = %d, %v; want the older, %d", j.ID, ok, held.ID)
	}
	// A job that ended is never claimed, whatever its lease.
	update(t, s, func(tx account.Tx) error {
		fj, err := tx.ImportJobByID(ctx, b.ID, fresh.ID)
		if err != nil {
			return err
		}
		fj.Status, fj.FinishedAt = account.ImportDone, &later
		return tx.UpdateImportJob(ctx, &fj)
	})
	if j, ok := claimImport(t, s, later.Add(time.Hour), lease); !ok || j.ID != held.ID {
		t.Errorf("ClaimImportJob after fresh ended = %d, %v; want %d", j.ID, ok, held.ID)
	}
	if j, ok := claimImport(t, s, later.Add(time.Hour), lease); ok {
		t.Errorf("ClaimImportJob = %d, want none", j.ID)
	}
}

// testImportJobClaimConcurrent claims from ten transactions at once: each job
// goes to exactly one of them.
func testImportJobClaimConcurrent(t *testing.T, s account.Store) {
	o := mustOrg(t, s, "metro-fire")
	for _, jobs := range []int{1, 4} {
		var ids []int64
		for range jobs {
			ids = append(ids, mustImportJob(t, s, newImportJob(o.ID, nil, "x")).ID)
		}
		now := t0.Add(time.Duration(jobs) * time.Hour)
		const lease = 1000 * time.Hour // the earlier round's jobs stay leased
		var (
			mu    sync.Mutex
			seen  = map[int64]int{}
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		record := func(j account.ImportJob) {
			mu.Lock()
			seen[j.ID]++
			mu.Unlock()
		}
		for range 10 {
			wg.Go(func() {
				<-start
				err := s.Tx(context.Background(), func(tx account.Tx) error {
					j, err := tx.ClaimImportJob(context.Background(), now, lease)
					if err == nil {
						record(j)
					}
					return err
				})
				if err != nil && !errors.Is(err, account.ErrNotFound) {
					t.Errorf("ClaimImportJob: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		// On PostgreSQL a claimer comes away empty when the rows it saw were
		// all locked by others, so jobs may remain; claim them one at a time.
		for range jobs + 1 {
			j, ok := claimImport(t, s, now, lease)
			if !ok {
				break
			}
			record(j)
		}
		for _, id := range ids {
			if seen[id] != 1 {
				t.Errorf("%d jobs: job %d claimed %d times, want once", jobs, id, seen[id])
			}
		}
		if len(seen) != jobs {
			t.Errorf("%d jobs: claimed %v", jobs, seen)
		}
	}
}
