package sqlstore

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, url string
		want      []string // in the error
		notWant   string   // never in the error
	}{
		{"scheme", "mysql://root:hunter2@db/latchkey", []string{`unsupported database URL "mysql://REDACTED@db/latchkey"`, "want sqlite:PATH or postgres://"}, "hunter2"},
		{"empty", "", []string{`unsupported database URL ""`}, ""},
		{"bare path", "/var/lib/latchkey.db", []string{"unsupported database URL"}, ""},
		{"sqlite no path", "sqlite:", []string{"no path"}, ""},
		{"sqlite memory", "sqlite::memory:", []string{"in-memory"}, ""},
		{"sqlite missing dir", "sqlite:" + filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), []string{"open sqlite"}, ""},
		{"postgres unreachable", "postgres://latchkey:hunter2@127.0.0.1:1/latchkey?sslmode=disable",
			[]string{"cannot reach PostgreSQL at postgres://REDACTED@127.0.0.1:1/latchkey"}, "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			db, err := Open(context.Background(), tt.url, nil)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.url)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Open(%q) took %v to fail", tt.url, d)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open(%q) error = %q, want it to contain %q", tt.url, err, w)
				}
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("Open(%q) error = %q reveals %q", tt.url, err, tt.notWant)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:p@h:5432/d?sslmode=disable", "postgres://REDACTED@h:5432/d?sslmode=disable"},
		{"postgres://h/d?password=secret&user=u", "postgres://h/d?password=REDACTED&user=u"},
		{"postgres://h/d", "postgres://h/d"},
		{"postgres://u:p%zz@h/d", "postgres://REDACTED@h/d"},
		{"sqlite:/tmp/x.db", "sqlite:/tmp/x.db"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"x = '?' AND y = ? AND \"q?\" = ?", "x = '?' AND y = $1 AND \"q?\" = $2"},
	}
	for _, tt := range tests {
		if got := rebind(tt.in); got != tt.want {
			t.Errorf("rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// dialects runs fn as a subtest per database; url returns a fresh database.
func dialects(t *testing.T, fn func(t *testing.T, url func(t *testing.T) string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, func(t *testing.T) string { return sqliteURL(t) }) })
	t.Run("postgres", func(t *testing.T) { fn(t, func(t *testing.T) string { return postgresURL(t) }) })
}

func latestVersion(t *testing.T, dialect string) int {
	t.Helper()
	ms, err := loadMigrations(migrationFS, "migrations/"+dialect)
	if err != nil {
		t.Fatal(err)
	}
	return ms[len(ms)-1].version
}

func TestMigrateIdempotent(t *testing.T) {
	dialects(t, func(t *testing.T, url func(*testing.T) string) {
		ctx := context.Background()
		db, err := Open(ctx, url(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if v, err := db.Version(ctx); err != nil || v != 0 {
			t.Fatalf("Version of an empty database = %d, %v; want 0, nil", v, err)
		}
		want := latestVersion(t, db.Dialect())
		for i := range 2 {
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate #%d: %v", i+1, err)
			}
			if v, err := db.Version(ctx); err != nil || v != want {
				t.Fatalf("Version after Migrate #%d = %d, %v; want %d", i+1, v, err, want)
			}
		}
		var n int
		if err := db.writer.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != want {
			t.Errorf("schema_migrations has %d rows (%v), want %d", n, err, want)
		}
	})
}

func TestMigrateConcurrent(t *testing.T) {
	dialects(t, func(t *testing.T, url func(*testing.T) string) {
		ctx := context.Background()
		u := url(t)
		const n = 4
		dbs := make([]*DB, n)
		for i := range dbs {
			db, err := Open(ctx, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			dbs[i] = db
		}
		var wg sync.WaitGroup
		for i, db := range dbs {
			wg.Go(func() {
				if err := db.Migrate(ctx); err != nil {
					t.Errorf("Migrate on handle %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		want := latestVersion(t, dbs[0].Dialect())
		if v, err := dbs[0].Version(ctx); err != nil || v != want {
			t.Errorf("Version after concurrent Migrate = %d, %v; want %d", v, err, want)
		}
		if err := dbs[1].Tx(ctx, func(tx account.Tx) error {
			return tx.CreateOrg(ctx, &account.Org{Slug: "a", Name: "A"})
		}); err != nil {
			t.Errorf("CreateOrg after concurrent Migrate: %v", err)
		}
	})
}

func TestMigrateFailureLeavesNothing(t *testing.T) {
	dialects(t, func(t *testing.T, url func(*testing.T) string) {
		ctx := context.Background()
		db, err := Open(ctx, url(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		fsys := fstest.MapFS{
			db.Dialect() + "/0001_one.sql": {Data: []byte("CREATE TABLE one (id INTEGER PRIMARY KEY);")},
			db.Dialect() + "/0002_two.sql": {Data: []byte("CREATE TABLE two (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);")},
		}
		if err := db.migrate(ctx, fsys); err == nil || !strings.Contains(err.Error(), "0002_two.sql") {
			t.Fatalf("migrate with a bad 0002 = %v, want an error naming 0002_two.sql", err)
		}
		if v, err := db.Version(ctx); err != nil || v != 1 {
			t.Errorf("Version after failed 0002 = %d, %v; want 1", v, err)
		}
		if _, err := db.writer.Exec("SELECT COUNT(*) FROM two"); err == nil {
			t.Error("table two of the failed migration exists")
		}
		if _, err := db.writer.Exec("SELECT COUNT(*) FROM one"); err != nil {
			t.Errorf("table one of the good migration: %v", err)
		}
		// A database newer than the program is refused.
		older := fstest.MapFS{db.Dialect() + "/README": {Data: []byte("no migrations")}}
		if err := db.migrate(ctx, older); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("migrate with fewer migrations than applied = %v, want a schema-is-newer error", err)
		}
		bad := fstest.MapFS{db.Dialect() + "/0000_x.sql": {Data: []byte("")}}
		if err := db.migrate(ctx, bad); err == nil {
			t.Error("migrate with version 0 succeeded")
		}
	})
}

func TestBackup(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, sqliteURL(t))
	if err := db.Tx(ctx, func(tx account.Tx) error {
		return tx.CreateOrg(ctx, &account.Org{Slug: "springfield", Name: "Springfield"})
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, path); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if err := db.Backup(ctx, path); err == nil {
		t.Error("Backup over an existing file succeeded")
	}
	b := mustOpen(t, "sqlite:"+path)
	if err := b.View(ctx, func(tx account.Tx) error {
		o, err := tx.OrgBySlug(ctx, "springfield")
		if err != nil {
			return err
		}
		if o.Name != "Springfield" {
			t.Errorf("org in backup = %q, want Springfield", o.Name)
		}
		return nil
	}); err != nil {
		t.Fatalf("reading the backup: %v", err)
	}
}

func TestBackupPostgres(t *testing.T) {
	db := mustOpen(t, postgresURL(t))
	if db.Dialect() != DialectPostgres {
		t.Fatalf("Dialect = %q, want %q", db.Dialect(), DialectPostgres)
	}
	err := db.Backup(context.Background(), filepath.Join(t.TempDir(), "x"))
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("Backup on PostgreSQL = %v, want an error pointing to pg_dump", err)
	}
}

// TestMigrateBackfillsNameKeys applies 0001, adds a user as 0001 knew them,
// then the rest: the user gets name_key = FoldName(name) and is found by
// the search, on SQLite through users_fts too.
func TestMigrateBackfillsNameKeys(t *testing.T) {
	dialects(t, func(t *testing.T, url func(*testing.T) string) {
		ctx := context.Background()
		db, err := Open(ctx, url(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		sub, err := fs.Sub(migrationFS, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		first, err := fs.ReadFile(sub, db.Dialect()+"/0001_init.sql")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.migrate(ctx, fstest.MapFS{db.Dialect() + "/0001_init.sql": {Data: first}}); err != nil {
			t.Fatal(err)
		}
		var org account.Org
		var id account.UserID
		if err := db.Tx(ctx, func(atx account.Tx) error {
			org = account.Org{Slug: "a", Name: "A"}
			if err := atx.CreateOrg(ctx, &org); err != nil {
				return err
			}
			t := atx.(*tx)
			return t.queryRow(ctx, `INSERT INTO users (org_id, email, name, kind, status, auth_source, created_at, updated_at)
				VALUES (?, 'zoe@example.org', 'Zoé  Ångström', 'staff', 'active', 'local', ?, ?) RETURNING id`,
				int64(org.ID), t.time(time.Now()), t.time(time.Now())).Scan(&id)
		}); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var key string
		if err := db.writer.QueryRow(rebindFor(db, `SELECT name_key FROM users WHERE id = ?`), int64(id)).Scan(&key); err != nil {
			t.Fatal(err)
		}
		if want := account.FoldName("Zoé  Ångström"); key != want {
			t.Errorf("name_key after migrating = %q, want %q", key, want)
		}
		db.tuning = searchTuning{1, 1, 1} // through the trigram lookup
		for _, q := range []string{"angstr", "ÅNG", "zoe@"} {
			var got []account.User
			if err := db.View(ctx, func(tx account.Tx) (err error) {
				got, err = tx.ListUsers(ctx, org.ID, account.UserFilter{Q: q, Kinds: []account.Kind{account.KindStaff}, Limit: 10})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != id {
				t.Errorf("ListUsers(Q %q) after migrating = %v, want user %d", q, got, id)
			}
		}
	})
}

func rebindFor(db *DB, q string) string {
	if db.Dialect() == DialectPostgres {
		return rebind(q)
	}
	return q
}
