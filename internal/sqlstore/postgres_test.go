package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/sqlstore/storetest"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// pg is the PostgreSQL database of this test binary: created on first use,
// dropped by TestMain. Each test gets a schema of its own in it.
var pg struct {
	once    sync.Once
	baseURL string // LATCHKEY_TEST_POSTGRES
	dbURL   string // the test database
	dbName  string
	admin   *sql.DB // connected to the test database, for CREATE SCHEMA
	err     error
	schemas atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pg.err != nil {
		fmt.Fprintf(os.Stderr, "!!! PostgreSQL not reachable at %s: PostgreSQL store tests SKIPPED\n", redactURL(pg.baseURL))
	}
	if err := dropPostgres(); err != nil {
		fmt.Fprintf(os.Stderr, "sqlstore tests: drop PostgreSQL test database: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func setupPostgres() {
	pg.baseURL = os.Getenv("LATCHKEY_TEST_POSTGRES")
	if pg.baseURL == "" {
		pg.baseURL = defaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	root, err := sql.Open("pgx", pg.baseURL)
	if err != nil {
		pg.err = err
		return
	}
	defer root.Close()
	if err := root.PingContext(ctx); err != nil {
		pg.err = err
		return
	}
	b := make([]byte, 4)
	rand.Read(b)
	pg.dbName = fmt.Sprintf("latchkey_test_%d_%s", os.Getpid(), hex.EncodeToString(b))
	if _, err := root.ExecContext(ctx, "CREATE DATABASE "+pg.dbName); err != nil {
		pg.err = fmt.Errorf("create database %s: %w", pg.dbName, err)
		pg.dbName = ""
		return
	}
	u, err := url.Parse(pg.baseURL)
	if err != nil {
		pg.err = err
		return
	}
	u.Path = "/" + pg.dbName
	pg.dbURL = u.String()
	if pg.admin, pg.err = sql.Open("pgx", pg.dbURL); pg.err != nil {
		return
	}
	// Migration 0002's CREATE EXTENSION would put pg_trgm in the schema of
	// the test that runs first, and dropping that schema would take the
	// extension, and the trigram indexes of every other live schema, with it.
	// In public, which every test's search_path ends with, it outlives them.
	_, pg.err = pg.admin.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
}

func dropPostgres() error {
	if pg.dbName == "" {
		return nil
	}
	if pg.admin != nil {
		pg.admin.Close()
	}
	root, err := sql.Open("pgx", pg.baseURL)
	if err != nil {
		return err
	}
	defer root.Close()
	_, err = root.Exec("DROP DATABASE IF EXISTS " + pg.dbName + " WITH (FORCE)")
	return err
}

// postgresURL returns the URL of a new, empty schema (first in search_path,
// before public with pg_trgm) in the test database. Without PostgreSQL it skips t, loudly, or fails it under
// CI=true.
func postgresURL(t testing.TB) string {
	t.Helper()
	pg.once.Do(setupPostgres)
	if pg.err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s: %v", redactURL(pg.baseURL), pg.err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + ": PostgreSQL store tests FAILED (CI=true)")
		}
		t.Skip("!!! " + msg + ": PostgreSQL store tests SKIPPED (set LATCHKEY_TEST_POSTGRES)")
	}
	schema := fmt.Sprintf("s_%d", pg.schemas.Add(1))
	if _, err := pg.admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := pg.admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, _ := url.Parse(pg.dbURL)
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

func TestPostgresStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) account.Store { return mustOpen(t, postgresURL(t)) })
}
