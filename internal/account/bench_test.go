package account_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// benchService is a Service on SQLite at the default argon2id cost.
func benchService(b *testing.B, history int) (*account.Service, account.Actor, account.UserID) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	svc := account.NewService(db, password.NewHasher(password.DefaultParams(), password.NewLimiter(2, 64, time.Minute)),
		nil, nil, account.DefaultConfig())
	if _, err := svc.Init(ctx, account.InitInput{Slug: "metro", AdminEmail: "chief@example.org", AdminPassword: "chief-long-password"}); err != nil {
		b.Fatal(err)
	}
	a, _ := svc.OperatorActor(ctx, "metro")
	if _, err := svc.UpdateOrg(ctx, a, account.SettingsPatch{PasswordPolicy: &account.PolicyPatch{History: &history}}); err != nil {
		b.Fatal(err)
	}
	cr, err := svc.CreateUser(ctx, a, account.CreateUserInput{Email: "ann@example.org", Name: "Ann Lee", Password: "ann-first-password"})
	if err != nil {
		b.Fatal(err)
	}
	return svc, a, cr.User.ID
}

// BenchmarkIssueTemporaryPassword is one argon2id hash plus one transaction.
func BenchmarkIssueTemporaryPassword(b *testing.B) {
	svc, a, id := benchService(b, 5)
	ctx := context.Background()
	for b.Loop() {
		if _, err := svc.IssueTemporaryPassword(ctx, a, id, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompleteNewPassword signs in with a temporary password and
// completes the forced change; the issuing is outside the timer. With
// history 0 the change verifies the temporary password and hashes the new
// one; with the default history 5 it also checks the kept hashes.
func BenchmarkCompleteNewPassword(b *testing.B) {
	for _, h := range []int{0, 5} {
		b.Run(map[int]string{0: "history=0", 5: "history=5"}[h], func(b *testing.B) {
			svc, a, id := benchService(b, h)
			ctx := context.Background()
			n := 0
			for b.Loop() {
				b.StopTimer()
				tp, err := svc.IssueTemporaryPassword(ctx, a, id, "")
				if err != nil {
					b.Fatal(err)
				}
				res, err := svc.Login(ctx, account.LoginInput{Org: "metro", Email: "ann@example.org", Password: tp.Password})
				if err != nil || res.Challenge == nil {
					b.Fatalf("login: %v", err)
				}
				n++
				b.StartTimer()
				if _, err := svc.CompleteNewPassword(ctx, account.NewPasswordInput{ChallengeToken: res.Challenge.Token,
					NewPassword: account.Secret("ann-new-password-" + string(rune('a'+n%26)) + time.Now().Format("150405.000000"))}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// onBothDatabases runs bench on SQLite and on PostgreSQL, each time with a
// Service at a trivial argon2id cost (64 KiB, t=1) and the organization
// metro with its administrator chief@example.org.
func onBothDatabases(b *testing.B, bench func(b *testing.B, svc *account.Service, admin account.LoginInput)) {
	for _, db := range []struct {
		name string
		open func(testing.TB, int) []*sqlstore.DB
	}{{"sqlite", sqliteDBs}, {"postgres", postgresDBs}} {
		b.Run(db.name, func(b *testing.B) {
			dbs := db.open(b, 1)
			svc := account.NewService(dbs[0], password.NewHasher(fast, password.NewLimiter(4, 64, time.Minute)), nil, nil, account.DefaultConfig())
			if _, err := svc.Init(context.Background(), account.InitInput{Slug: "metro", AdminEmail: "chief@example.org", AdminPassword: "chief-long-password"}); err != nil {
				b.Fatal(err)
			}
			bench(b, svc, account.LoginInput{Org: "metro", Email: "chief@example.org", Password: "chief-long-password"})
		})
	}
}

// BenchmarkLoginWithoutHash measures everything a sign-in costs but the
// hash, on SQLite and PostgreSQL: the lookups, the attempt slot, the
// session and the audit event. Run it with -cpu 1 to read CPU per sign-in
// from ns/op.
func BenchmarkLoginWithoutHash(b *testing.B) {
	onBothDatabases(b, func(b *testing.B, svc *account.Service, in account.LoginInput) {
		for b.Loop() {
			if res, err := svc.Login(context.Background(), in); err != nil || res.Session == nil {
				b.Fatalf("login: %v", err)
			}
		}
	})
}

// BenchmarkAuthenticate measures what every authenticated request costs:
// finding the session, its user and organization, on SQLite and
// PostgreSQL.
func BenchmarkAuthenticate(b *testing.B) {
	onBothDatabases(b, func(b *testing.B, svc *account.Service, in account.LoginInput) {
		ctx := context.Background()
		res, err := svc.Login(ctx, in)
		if err != nil || res.Session == nil {
			b.Fatalf("login: %v", err)
		}
		for b.Loop() {
			if _, err := svc.Authenticate(ctx, res.Session.Token, account.Client{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
