package account_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// lockoutEnv is one organization with a user, served by one or more
// Services over one database: several Services are several processes.
type lockoutEnv struct {
	svcs  []*account.Service
	store account.Store
	org   account.Org
	user  account.User
}

func setMaxFailures(t *testing.T, svc *account.Service, org string, n int) {
	t.Helper()
	a, err := svc.OperatorActor(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateOrg(context.Background(), a, account.SettingsPatch{Lockout: &account.LockoutPatch{MaxFailures: &n}}); err != nil {
		t.Fatal(err)
	}
}

func newLockoutEnv(t *testing.T, dbs []*sqlstore.DB, maxFailures int) *lockoutEnv {
	t.Helper()
	ctx := context.Background()
	e := &lockoutEnv{store: dbs[0]}
	for _, db := range dbs {
		e.svcs = append(e.svcs, account.NewService(db, password.NewHasher(fast, password.NewLimiter(2, 256, 10*time.Second)),
			nil, nil, account.DefaultConfig()))
	}
	res, err := e.svcs[0].Init(ctx, account.InitInput{Slug: "metro", AdminEmail: "chief@example.org", AdminPassword: "chief-long-password"})
	if err != nil {
		t.Fatal(err)
	}
	e.org = res.Org
	setMaxFailures(t, e.svcs[0], "metro", maxFailures)
	a, _ := e.svcs[0].OperatorActor(ctx, "metro")
	cr, err := e.svcs[0].CreateUser(ctx, a, account.CreateUserInput{Email: "ann@example.org", Name: "Ann Lee", Password: "the-right-password"})
	if err != nil {
		t.Fatal(err)
	}
	e.user = cr.User
	return e
}

func (e *lockoutEnv) storeUser(t *testing.T) account.User {
	t.Helper()
	var u account.User
	err := e.store.View(context.Background(), func(tx account.Tx) error {
		var err error
		u, err = tx.UserByID(context.Background(), e.org.ID, e.user.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *lockoutEnv) reasons(t *testing.T) (map[string]int, int) {
	t.Helper()
	var evs []account.AuditEvent
	err := e.store.View(context.Background(), func(tx account.Tx) error {
		var err error
		evs, err = tx.AuditEvents(context.Background(), e.org.ID, account.AuditFilter{TargetID: &e.user.ID, Limit: 10000})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r, locked := map[string]int{}, 0
	for _, ev := range evs {
		switch ev.Action {
		case account.ActionLoginFailed:
			s, _ := ev.Details["reason"].(string)
			r[s]++
		case account.ActionLocked:
			locked++
		}
	}
	return r, locked
}

// clearedFailures returns the failures the user's successful sign-ins
// cleared, from their user.login events.
func (e *lockoutEnv) clearedFailures(t *testing.T) int {
	t.Helper()
	n := 0
	err := e.store.View(context.Background(), func(tx account.Tx) error {
		evs, err := tx.AuditEvents(context.Background(), e.org.ID, account.AuditFilter{TargetID: &e.user.ID, Limit: 10000})
		for _, ev := range evs {
			if ev.Action == account.ActionLogin {
				c, _ := ev.Details["cleared_failures"].(float64) // JSON numbers
				n += int(c)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// takeSlot takes one of the user's sign-in slots with the given limit and
// reports whether it was admitted.
func (e *lockoutEnv) takeSlot(t *testing.T, max int) bool {
	t.Helper()
	var att account.Attempt
	err := e.store.Autocommit(context.Background(), func(tx account.Tx) (err error) {
		att, err = tx.BeginLoginAttempt(context.Background(), e.org.ID, e.user.ID, max, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return att.Admitted
}

// giveSlots gives n of the user's sign-in slots back, as abandoned attempts.
func (e *lockoutEnv) giveSlots(t *testing.T, n int) {
	t.Helper()
	for range n {
		err := e.store.Autocommit(context.Background(), func(tx account.Tx) error {
			_, err := tx.EndLoginAttempt(context.Background(), e.org.ID, e.user.ID,
				account.AttemptEnd{Outcome: account.AttemptAbandoned}, time.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// holdSlots takes n of the user's sign-in slots, as attempts in flight
// elsewhere would, and returns the function that gives them back.
func (e *lockoutEnv) holdSlots(t *testing.T, n int) func() {
	t.Helper()
	for i := range n {
		if !e.takeSlot(t, 100) {
			t.Fatalf("slot %d not admitted", i)
		}
	}
	return func() { e.giveSlots(t, n) }
}

// freeSlots counts the user's free sign-in slots out of max, taking them
// and giving them back.
func (e *lockoutEnv) freeSlots(t *testing.T, max int) int {
	t.Helper()
	n := 0
	for n < max && e.takeSlot(t, max) {
		n++
	}
	e.giveSlots(t, n)
	return n
}

// storm signs in n times at once, spread over the services; right[i] says
// whether attempt i uses the right password. It returns the successes.
func (e *lockoutEnv) storm(t *testing.T, n int, right func(int) bool) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			pw := "wrong-password-" + fmt.Sprint(i)
			if right(i) {
				pw = "the-right-password"
			}
			email := []string{"ann@example.org", "Ann@Example.org", " ann@example.org "}[i%3]
			_, err := e.svcs[i%len(e.svcs)].Login(context.Background(), account.LoginInput{Org: "metro", Email: email, Password: account.Secret(pw)})
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if c := account.ErrorCode(err); c != account.CodeInvalidCredentials {
				t.Errorf("attempt %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	return ok
}

func sqliteDBs(t testing.TB, n int) []*sqlstore.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "l.db")
	var dbs []*sqlstore.DB
	for range n {
		db, err := sqlstore.Open(context.Background(), "sqlite:"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	return dbs
}

// postgresDBs opens n handles on a fresh PostgreSQL database, as n processes would.
func postgresDBs(t testing.TB, n int) []*sqlstore.DB {
	t.Helper()
	base := os.Getenv("LATCHKEY_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(context.Background())
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL not reachable at %s: %v", base, err)
		}
		t.Skipf("!!! PostgreSQL not reachable at %s: PostgreSQL lockout tests SKIPPED (%v)", base, err)
	}
	name := fmt.Sprintf("latchkey_lockout_%d_%d", os.Getpid(), rand.IntN(1<<30))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	url := strings.Replace(base, "/postgres?", "/"+name+"?", 1)
	var dbs []*sqlstore.DB
	for range n {
		db, err := sqlstore.Open(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	return dbs
}

func TestLockout_concurrent(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(testing.TB, int) []*sqlstore.DB
	}{{"SQLite", sqliteDBs}, {"PostgreSQL two processes", postgresDBs}} {
		t.Run(db.name, func(t *testing.T) {
			t.Run("60 wrong at once are all counted", func(t *testing.T) {
				e := newLockoutEnv(t, db.open(t, 2), 5)
				if ok := e.storm(t, 60, func(int) bool { return false }); ok != 0 {
					t.Fatalf("%d wrong passwords signed in", ok)
				}
				u := e.storeUser(t)
				r, locked := e.reasons(t)
				if u.FailedLogins != 60 || r["bad_password"]+r["locked"] != 60 {
					t.Errorf("failed_logins %d, reasons %v, want 60 in all", u.FailedLogins, r)
				}
				if r["bad_password"] > 5 || locked != 1 || u.LockedUntil == nil {
					t.Errorf("%d passwords evaluated (want ≤ 5), %d user.locked (want 1), locked_until %v", r["bad_password"], locked, u.LockedUntil)
				}
			})
			t.Run("40 at once with one right evaluate at most 5 wrong beyond those it clears", func(t *testing.T) {
				// The right password clears the failures counted when it
				// began (a success resets the count), not those that came
				// while it ran: beyond the cleared ones, at most 5 wrong
				// passwords are evaluated.
				e := newLockoutEnv(t, db.open(t, 2), 5)
				if ok := e.storm(t, 40, func(i int) bool { return i == 20 }); ok > 1 {
					t.Fatalf("%d sign-ins succeeded with one right password", ok)
				}
				r, _ := e.reasons(t)
				cleared := e.clearedFailures(t)
				if r["bad_password"] > 5+cleared {
					t.Errorf("%d wrong passwords evaluated, the success cleared %d: want at most 5 beyond those (reasons %v)",
						r["bad_password"], cleared, r)
				}
			})
			t.Run("below the limit nothing locks and nothing is lost", func(t *testing.T) {
				e := newLockoutEnv(t, db.open(t, 2), 50)
				e.storm(t, 20, func(int) bool { return false })
				u := e.storeUser(t)
				r, locked := e.reasons(t)
				if u.FailedLogins != 20 || r["bad_password"] != 20 || locked != 0 || u.LockedUntil != nil {
					t.Errorf("failed_logins %d, reasons %v, %d locks, locked_until %v; want 20 evaluated, no lock", u.FailedLogins, r, locked, u.LockedUntil)
				}
				if ok := e.storm(t, 1, func(int) bool { return true }); ok != 1 {
					t.Fatal("the right password is refused below the limit")
				}
				if u := e.storeUser(t); u.FailedLogins != 0 {
					t.Errorf("a success left failed_logins at %d", u.FailedLogins)
				}
				if n := e.clearedFailures(t); n != 20 {
					t.Errorf("the success's user.login records %d cleared failures, want 20", n)
				}
			})
			t.Run("many right at once all sign in", func(t *testing.T) {
				e := newLockoutEnv(t, db.open(t, 2), 5)
				// 64 sign-ins on 5 slots: most wait in line, and each slot is
				// handed from one to the next within a process.
				if ok := e.storm(t, 64, func(int) bool { return true }); ok != 64 {
					t.Errorf("%d of 64 concurrent right sign-ins succeeded", ok)
				}
				if n := e.freeSlots(t, 5); n != 5 {
					t.Errorf("%d of 5 slots free after every sign-in ended: slots leaked", n)
				}
			})
			t.Run("sign-ins that give up waiting leak no slot", func(t *testing.T) {
				e := newLockoutEnv(t, db.open(t, 2), 5)
				release := e.holdSlots(t, 5)
				var wg sync.WaitGroup
				for i := range 6 {
					wg.Go(func() {
						ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
						defer cancel()
						_, err := e.svcs[i%2].Login(ctx, account.LoginInput{Org: "metro", Email: "ann@example.org", Password: "the-right-password"})
						if err == nil {
							t.Error("a sign-in succeeded while every slot was held")
						}
					})
				}
				wg.Wait()
				release()
				// Sign-ins waiting in line as slots free up are all served,
				// and then every slot is free again.
				if ok := e.storm(t, 12, func(int) bool { return true }); ok != 12 {
					t.Errorf("%d of 12 sign-ins succeeded after the slots were freed", ok)
				}
				if n := e.freeSlots(t, 5); n != 5 {
					t.Errorf("%d of 5 slots free after every sign-in ended: slots leaked", n)
				}
			})
		})
	}
}

// TestLockout_clientGoneAfterHash: a client that hangs up once its password
// has been hashed (its request's context cancelled) cannot keep the attempt
// from counting: the failure, its audit event and the lock are recorded,
// and a right password still signs in and is audited.
func TestLockout_clientGoneAfterHash(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(testing.TB, int) []*sqlstore.DB
	}{{"SQLite", sqliteDBs}, {"PostgreSQL", postgresDBs}} {
		t.Run(db.name, func(t *testing.T) {
			dbs := db.open(t, 1)
			e := newLockoutEnv(t, dbs, 3)
			var cancel atomic.Value // the context.CancelFunc of the attempt under way
			h := password.NewHasher(fast, password.NewLimiter(2, 16, 10*time.Second))
			h.OnHash = func(time.Duration) {
				if c, ok := cancel.Load().(context.CancelFunc); ok {
					c() // the client hangs up as the hash ends
				}
			}
			svc := account.NewService(dbs[0], h, nil, nil, account.DefaultConfig())
			attempt := func(pw string) error {
				ctx, c := context.WithCancel(context.Background())
				defer c()
				cancel.Store(context.CancelFunc(c))
				_, err := svc.Login(ctx, account.LoginInput{Org: "metro", Email: "ann@example.org", Password: account.Secret(pw)})
				return err
			}
			if err := attempt("the-right-password"); err != nil {
				t.Fatalf("a right password with the client gone after the hash: %v", err)
			}
			if n := e.freeSlots(t, 3); n != 3 {
				t.Errorf("%d of 3 slots free after the sign-in: its slot leaked", n)
			}
			for i := range 3 {
				attempt(fmt.Sprintf("wrong-%d", i))
			}
			u := e.storeUser(t)
			r, locked := e.reasons(t)
			if u.FailedLogins != 3 || r["bad_password"] != 3 || locked != 1 || u.LockedUntil == nil {
				t.Errorf("after 3 wrong passwords whose clients hung up: failed_logins %d, reasons %v, %d user.locked, locked_until %v; want 3, 3 bad_password, 1, set",
					u.FailedLogins, r, locked, u.LockedUntil)
			}
			var logins int
			err := e.store.View(context.Background(), func(tx account.Tx) error {
				evs, err := tx.AuditEvents(context.Background(), e.org.ID, account.AuditFilter{TargetID: &e.user.ID, Limit: 100})
				for _, ev := range evs {
					if ev.Action == account.ActionLogin {
						logins++
					}
				}
				return err
			})
			if err != nil || logins != 1 {
				t.Errorf("user.login events after the right password: %d (%v), want 1", logins, err)
			}
		})
	}
}
