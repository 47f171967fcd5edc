// Package sqlstore is the one account.Store: database/sql over SQLite
// (modernc.org/sqlite, pure Go) and PostgreSQL (pgx), with migrations embedded
// per dialect. The conformance suite in sqlstore/storetest runs on both.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// The dialects, as Dialect reports them.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// pingTimeout bounds how long Open waits for the database when ctx has no
// deadline of its own, so a black-holed host fails instead of hanging.
const pingTimeout = 10 * time.Second

// DB is an open database. It implements account.Store.
//
// On SQLite, writes go through writer, a pool of one connection whose
// transactions begin IMMEDIATE: writers queue in database/sql instead of
// failing with SQLITE_BUSY, and a transaction never has to upgrade a read lock.
// Reads (View) go through reader, several query_only connections that WAL
// lets run beside the writer. On PostgreSQL both are the same pool.
type DB struct {
	writer  *sql.DB
	reader  *sql.DB
	dialect string
	dsn     string // SQLite: the readers' DSN without query_only, for Backup
	log     *slog.Logger
	tuning  searchTuning // see listUsersWindowed
}

var _ account.Store = (*DB)(nil)

// Open opens the database at url: "sqlite:PATH" or "postgres://…"
// ("postgresql://…"). It pings the database and fails if it cannot be reached.
// It does not migrate; call Migrate. A nil log discards.
func Open(ctx context.Context, url string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(url, "sqlite:"), log)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return openPostgres(ctx, url, log)
	}
	return nil, fmt.Errorf("sqlstore: unsupported database URL %q: want sqlite:PATH or postgres://…", redactURL(url))
}

func openSQLite(ctx context.Context, path string, log *slog.Logger) (*DB, error) {
	switch {
	case path == "":
		return nil, errors.New("sqlstore: sqlite URL has no path: want sqlite:PATH")
	case strings.Contains(path, ":memory:") || strings.Contains(path, "mode=memory"):
		// The writer and reader pools would each see their own empty database.
		return nil, errors.New("sqlstore: in-memory SQLite is not supported: want sqlite:PATH to a file")
	case strings.ContainsRune(path, '?'):
		return nil, fmt.Errorf("sqlstore: sqlite path %q contains '?'", path)
	}
	// The driver applies busy_timeout first; journal_mode=WAL persists in the
	// file, so setting it on the writer is enough for the readers.
	common := "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	writer, err := sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)
	if err := ping(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	if err := ping(ctx, reader); err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite %s: %w", path, err)
	}
	log.Debug("opened database", "dialect", DialectSQLite, "path", path)
	return &DB{writer: writer, reader: reader, dialect: DialectSQLite, dsn: path + "?" + common, log: log,
		tuning: defaultSearchTuning}, nil
}

func openPostgres(ctx context.Context, url string, log *slog.Logger) (*DB, error) {
	shown := redactURL(url)
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", shown, err)
	}
	// Every open connection may stay idle: a burst of sign-ins that opens
	// them all would otherwise close some and open them again (a new
	// PostgreSQL process each) on the next burst.
	db.SetMaxOpenConns(25)
	db.SetMaxIdleConns(25)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := ping(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: cannot reach PostgreSQL at %s: %w", shown, err)
	}
	log.Debug("opened database", "dialect", DialectPostgres, "url", shown)
	return &DB{writer: db, reader: db, dialect: DialectPostgres, log: log, tuning: defaultSearchTuning}, nil
}

func ping(ctx context.Context, db *sql.DB) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pingTimeout)
		defer cancel()
	}
	return db.PingContext(ctx)
}

// redactURL hides the user name, password and any password parameter of a
// database URL, so that it can go into an error or a log.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// Unparseable: still never show what might be "user:pass@".
		if i := strings.LastIndex(s, "@"); i >= 0 {
			j := strings.Index(s, "://")
			if j < 0 || j+3 > i {
				j = -3
			}
			return s[:j+3] + "REDACTED" + s[i:]
		}
		return s
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "REDACTED")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Close closes the database.
func (db *DB) Close() error {
	err := db.writer.Close()
	if db.reader != db.writer {
		err = errors.Join(err, db.reader.Close())
	}
	return err
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Ping reports whether the database is reachable.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	if db.reader != db.writer {
		if err := db.reader.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping: %w", err)
		}
	}
	return nil
}

// Tx runs fn in one read-write transaction, committed when fn returns nil and
// rolled back when it returns an error or panics. On PostgreSQL a failed
// statement aborts the transaction, so fn should return the first error of a
// Tx method rather than carry on.
func (db *DB) Tx(ctx context.Context, fn func(account.Tx) error) error {
	return db.run(ctx, db.writer, nil, fn)
}

// View runs fn in a read-only transaction; writes in it fail.
func (db *DB) View(ctx context.Context, fn func(account.Tx) error) error {
	return db.run(ctx, db.reader, &sql.TxOptions{ReadOnly: true}, fn)
}

// Read runs fn on the readers without a transaction: each statement sees
// what is committed when it runs. A read of one statement needs no snapshot,
// and on PostgreSQL this saves the round trips of BEGIN and COMMIT. Writes
// in fn fail on SQLite; never write in it.
func (db *DB) Read(ctx context.Context, fn func(account.Tx) error) error {
	return fn(&tx{tx: db.reader, pg: db.dialect == DialectPostgres, tuning: db.tuning})
}

// Autocommit runs fn on the writer without a transaction: each statement
// commits on its own. A write of one statement needs no transaction, and on
// PostgreSQL this saves the round trips of BEGIN and COMMIT.
func (db *DB) Autocommit(ctx context.Context, fn func(account.Tx) error) error {
	return fn(&tx{tx: db.writer, pg: db.dialect == DialectPostgres, tuning: db.tuning})
}

func (db *DB) run(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(account.Tx) error) error {
	stx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	done := false
	defer func() {
		if !done { // fn panicked
			stx.Rollback()
		}
	}()
	err = fn(&tx{tx: stx, pg: db.dialect == DialectPostgres, write: opts == nil || !opts.ReadOnly, tuning: db.tuning})
	done = true
	if err != nil {
		stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// Backup writes a consistent copy of a SQLite database to path, which must
// not exist yet. On PostgreSQL it fails: use pg_dump.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.dialect != DialectSQLite {
		return errors.New("sqlstore: backup is for SQLite only: back up PostgreSQL with pg_dump")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("sqlstore: backup: %s already exists", path)
	}
	// VACUUM INTO reads the database in one WAL snapshot, so writers carry
	// on meanwhile; but SQLite counts it as a write, which the query_only
	// readers refuse, so it gets a connection of its own.
	conn, err := sql.Open("sqlite", db.dsn)
	if err != nil {
		return fmt.Errorf("sqlstore: backup to %s: %w", path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("sqlstore: backup to %s: %w", path, err)
	}
	return nil
}
