package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/sqlstore/storetest"
)

// sqliteURL returns the URL of a new database file in t's temp dir.
func sqliteURL(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "latchkey.db")
}

// mustOpen opens url, migrates it and closes it when t ends.
func mustOpen(t testing.TB, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func TestSQLiteStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) account.Store { return mustOpen(t, sqliteURL(t)) })
}

// TestSearchSteps runs the suite with row counts small enough that the
// searches of its few rows take each step of listUsersWindowed: lookups
// sorted, the split by prefix, the second walk.
func TestSearchSteps(t *testing.T) {
	for _, tu := range []searchTuning{{1, 1, 1}, {1, 2, 3}, {3, 1000, 1}, {2, 1, 1000}} {
		dialects(t, func(t *testing.T, url func(*testing.T) string) {
			t.Run(fmt.Sprintf("%d-%d-%d", tu.walk, tu.few, tu.walk2), func(t *testing.T) {
				storetest.Run(t, func(t *testing.T) account.Store {
					db := mustOpen(t, url(t))
					db.tuning = tu
					return db
				})
			})
		})
	}
}

func TestSQLitePragmas(t *testing.T) {
	db := mustOpen(t, sqliteURL(t))
	tests := []struct {
		pool *sql.DB
		name string
		want string
	}{
		{db.writer, "journal_mode", "wal"},
		{db.writer, "foreign_keys", "1"},
		{db.writer, "busy_timeout", "5000"},
		{db.writer, "synchronous", "1"}, // NORMAL
		{db.writer, "query_only", "0"},
		{db.reader, "journal_mode", "wal"},
		{db.reader, "foreign_keys", "1"},
		{db.reader, "busy_timeout", "5000"},
		{db.reader, "query_only", "1"},
	}
	for _, tt := range tests {
		var got string
		if err := tt.pool.QueryRow("PRAGMA " + tt.name).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.name, err)
		}
		if got != tt.want {
			pool := "writer"
			if tt.pool == db.reader {
				pool = "reader"
			}
			t.Errorf("%s: PRAGMA %s = %q, want %q", pool, tt.name, got, tt.want)
		}
	}
}
