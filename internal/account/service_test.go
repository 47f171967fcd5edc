package account_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var fast = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type fixture struct {
	svc   *account.Service
	store *sqlstore.DB
	clock *fakeClock
	org   account.Org
	admin account.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "a.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	svc := account.NewService(db, password.NewHasher(fast, password.NewLimiter(2, 64, 5*time.Second)), clock, nil, account.DefaultConfig())
	res, err := svc.Init(ctx, account.InitInput{Slug: "metro", Name: "Metro Fire", AdminEmail: "Ann@Example.org", AdminPassword: "correct-horse-battery"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: db, clock: clock, org: res.Org, admin: res.User}
}

func (f *fixture) user(t *testing.T) account.User {
	t.Helper()
	var u account.User
	err := f.store.View(context.Background(), func(tx account.Tx) error {
		var err error
		u, err = tx.UserByID(context.Background(), f.org.ID, f.admin.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) login(pw string) error {
	_, err := f.svc.Login(context.Background(), account.LoginInput{Org: "metro", Email: "ann@example.org", Password: account.Secret(pw)})
	return err
}

func TestService_Init(t *testing.T) {
	f := newFixture(t)
	if f.admin.Email != "ann@example.org" || f.admin.Status != account.StatusActive || len(f.admin.Roles) != 1 ||
		f.admin.Roles[0] != account.RoleAdministrator || !f.admin.Permissions.Has(account.PermOrgManage) {
		t.Errorf("admin: %+v", f.admin)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   account.InitInput
		code account.Code
	}{
		{"slug taken", account.InitInput{Slug: "metro", AdminEmail: "x@example.org"}, account.CodeOrgTaken},
		{"bad slug", account.InitInput{Slug: "Metro Fire!", AdminEmail: "x@example.org"}, account.CodeValidation},
		{"bad email", account.InitInput{Slug: "north", AdminEmail: "not an email"}, account.CodeValidation},
		{"short password", account.InitInput{Slug: "north", AdminEmail: "x@example.org", AdminPassword: "short"}, account.CodePasswordPolicy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Init(ctx, tc.in)
			var e *account.Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("err = %v, want code %s", err, tc.code)
			}
			// Nothing was written.
			f.store.View(ctx, func(tx account.Tx) error {
				if _, err := tx.OrgBySlug(ctx, "north"); !errors.Is(err, account.ErrNotFound) {
					t.Errorf("organization north exists after a refused init: %v", err)
				}
				return nil
			})
		})
	}
	t.Run("temporary password", func(t *testing.T) {
		res, err := f.svc.Init(ctx, account.InitInput{Slug: "north", AdminEmail: "cy@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		tp := string(res.TemporaryPassword)
		if len(tp) < 12 || res.User.Status != account.StatusForcePasswordReset || res.User.TempPasswordHash == "" || res.User.PasswordHash != "" {
			t.Errorf("temporary password %d chars, user %+v", len(tp), res.User)
		}
		if strings.Contains(res.User.TempPasswordHash, tp) {
			t.Error("the temporary password is stored in clear")
		}
	})
}

func TestService_Bootstrap(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "b.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := account.NewService(db, password.NewHasher(fast, password.DefaultLimiter()), nil, nil, account.DefaultConfig())
	res, created, err := svc.Bootstrap(ctx)
	if err != nil || !created || res.Org.Slug != "default" || res.User.Email != "admin@localhost" || res.TemporaryPassword == "" {
		t.Fatalf("first bootstrap: %v %v %+v", created, err, res)
	}
	if _, created, err := svc.Bootstrap(ctx); err != nil || created {
		t.Errorf("second bootstrap: created=%v err=%v, want nothing created", created, err)
	}
}

func TestService_Login_rehashesLegacyHash(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	legacy, _ := bcrypt.GenerateFromPassword([]byte("imported-password-1"), 4)
	err := f.store.Tx(ctx, func(tx account.Tx) error {
		u, err := tx.UserByID(ctx, f.org.ID, f.admin.ID)
		if err != nil {
			return err
		}
		u.PasswordHash = string(legacy)
		return tx.UpdateUser(ctx, &u)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.login("wrong-password-1"); account.ErrorCode(err) != account.CodeInvalidCredentials {
		t.Fatalf("wrong password: %v", err)
	}
	if got := f.user(t).PasswordHash; got != string(legacy) {
		t.Fatalf("a failed sign-in changed the hash to %q", got)
	}
	if err := f.login("imported-password-1"); err != nil {
		t.Fatalf("bcrypt sign-in: %v", err)
	}
	h := f.user(t).PasswordHash
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("after sign-in the hash is %q, want argon2id at the current parameters", h)
	}
	if err := f.login("imported-password-1"); err != nil {
		t.Fatalf("sign-in with the rehashed password: %v", err)
	}
}

func TestService_Login_normalisesUnicode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// "é" typed as one code point (a PC) and as e + combining accent (some phones).
	composed, decomposed := "caf\u00e9-caf\u00e9-caf\u00e9", "cafe\u0301-cafe\u0301-cafe\u0301"
	res, err := f.svc.Init(ctx, account.InitInput{Slug: "uni", AdminEmail: "u@example.org", AdminPassword: account.Secret(composed)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Login(ctx, account.LoginInput{Org: res.Org.Slug, Email: "u@example.org", Password: account.Secret(decomposed)})
	if err != nil {
		t.Errorf("the same password typed decomposed: %v", err)
	}
}

func TestService_Login_lockout(t *testing.T) {
	f := newFixture(t)
	for i := 1; i <= 5; i++ {
		if err := f.login("wrong-password-" + string(rune('0'+i))); account.ErrorCode(err) != account.CodeInvalidCredentials {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	u := f.user(t)
	if u.FailedLogins != 5 || u.LockedUntil == nil || !u.LockedUntil.Equal(f.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("after 5 failures: failed=%d locked_until=%v", u.FailedLogins, u.LockedUntil)
	}
	// Locked: the right password gets the same answer as any failure.
	if err := f.login("correct-horse-battery"); account.ErrorCode(err) != account.CodeInvalidCredentials {
		t.Fatalf("correct password while locked: %v", err)
	}
	f.clock.Advance(16 * time.Minute)
	if err := f.login("correct-horse-battery"); err != nil {
		t.Fatalf("after the lock expired: %v", err)
	}
	if u := f.user(t); u.FailedLogins != 0 || u.LockedUntil != nil {
		t.Errorf("a success did not reset: failed=%d locked_until=%v", u.FailedLogins, u.LockedUntil)
	}
	var locked int
	ctx := context.Background()
	f.store.View(ctx, func(tx account.Tx) error {
		evs, err := tx.AuditEvents(ctx, f.org.ID, account.AuditFilter{Action: account.ActionLocked, Limit: 10})
		locked = len(evs)
		return err
	})
	if locked != 1 {
		t.Errorf("%d user.locked events, want 1", locked)
	}
}

func TestSecretRedacts(t *testing.T) {
	s := account.Secret("hunter2-hunter2")
	for _, got := range []string{s.String(), s.GoString(), s.LogValue().String()} {
		if strings.Contains(got, "hunter2") {
			t.Errorf("secret printed as %q", got)
		}
	}
}

func TestService_Login_legacyHashOfUnnormalisedPassword(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	typed := "cafe\u0301-cafe\u0301-cafe\u0301" // as another system hashed it, not NFKC
	legacy, _ := bcrypt.GenerateFromPassword([]byte(typed), 4)
	err := f.store.Tx(ctx, func(tx account.Tx) error {
		u, err := tx.UserByID(ctx, f.org.ID, f.admin.ID)
		if err != nil {
			return err
		}
		u.PasswordHash = string(legacy)
		return tx.UpdateUser(ctx, &u)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.login(typed); err != nil {
		t.Fatalf("sign-in with the password as typed: %v", err)
	}
	if h := f.user(t).PasswordHash; !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("not rehashed: %q", h)
	}
	// Now stored normalised: the composed form matches too.
	if err := f.login("caf\u00e9-caf\u00e9-caf\u00e9"); err != nil {
		t.Errorf("composed form after the rehash: %v", err)
	}
}

func errorsAs(err error, e **account.Error) bool { return errors.As(err, e) }
