package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey/internal/account"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// A migration is one embedded file, NNNN_name.sql, applied in one transaction.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads dir of fsys, sorted by version. Versions must be
// unique and positive; gaps are allowed.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		digits, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(digits)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %s: name must start with a positive version number", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read migration %s: %w", name, err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("sqlstore: migrations %s and %s have the same version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// Migrate applies the embedded migrations the database lacks, in order, each
// in one transaction with its schema_migrations row, so that a failed one
// leaves nothing behind. It is idempotent, and safe when several processes
// start at once: PostgreSQL locks schema_migrations, SQLite's writer takes
// an immediate (write) lock, and each migration re-checks its version under
// the lock.
func (db *DB) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	return db.migrate(ctx, sub)
}

func (db *DB) migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := loadMigrations(fsys, db.dialect)
	if err != nil {
		return err
	}
	if err := db.createMigrationsTable(ctx); err != nil {
		return err
	}
	current, err := db.Version(ctx)
	if err != nil {
		return err
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	if current > latest {
		return fmt.Errorf("sqlstore: database schema version %d is newer than this program's %d: upgrade latchkey",
			current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		applied, err := db.apply(ctx, m)
		if err != nil {
			return err
		}
		if applied {
			db.log.Info("applied migration", "dialect", db.dialect, "version", m.version, "name", m.name)
		}
	}
	return nil
}

func (db *DB) createMigrationsTable(ctx context.Context) error {
	q := `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT`
	if db.dialect == DialectPostgres {
		q = `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`
	}
	for attempt := 0; ; attempt++ {
		_, err := db.writer.ExecContext(ctx, q)
		// Two PostgreSQL sessions racing through CREATE TABLE IF NOT EXISTS
		// can both miss the table, and the loser fails on the catalog's
		// unique index (23505) or as a duplicate table or type (42P07, 42710);
		// by then the table exists, so try again.
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P07" || pe.Code == "42710") && attempt < 3 {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
		}
		return nil
	}
}

// goSteps are the parts of migrations written in Go, by file name: each runs
// right after its file's SQL, in the same transaction.
var goSteps = map[string]func(context.Context, *tx) error{
	"0002_search.sql": backfillNameKeys,
}

// backfillNameKeys sets name_key = account.FoldName(name) on the rows that
// predate the column. FoldName is Go (Unicode decomposition), so SQL's lower()
// would not give the same key, and the keyset cursors compare against it.
func backfillNameKeys(ctx context.Context, t *tx) error {
	type row struct {
		id   int64
		name string
	}
	rows, err := t.query(ctx, `SELECT id, name FROM users`)
	if err != nil {
		return fmt.Errorf("backfill name_key: %w", err)
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.name); err != nil {
			rows.Close()
			return fmt.Errorf("backfill name_key: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("backfill name_key: %w", err)
	}
	for _, r := range all {
		if _, err := t.exec(ctx, `UPDATE users SET name_key = ? WHERE id = ?`, account.FoldName(r.name), r.id); err != nil {
			return fmt.Errorf("backfill name_key: %w", err)
		}
	}
	return nil
}

// apply runs m unless another process did first; it reports whether it ran m.
func (db *DB) apply(ctx context.Context, m migration) (applied bool, err error) {
	stx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlstore: migration %s: begin: %w", m.name, err)
	}
	defer func() {
		if !applied {
			stx.Rollback()
		}
	}()
	t := &tx{tx: stx, pg: db.dialect == DialectPostgres, write: true}
	if t.pg {
		// EXCLUSIVE lets readers of schema_migrations on but makes a second
		// migrator wait here until this transaction ends.
		if _, err := stx.ExecContext(ctx, `LOCK TABLE schema_migrations IN EXCLUSIVE MODE`); err != nil {
			return false, fmt.Errorf("sqlstore: migration %s: lock: %w", m.name, err)
		}
	}
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
	}
	if n > 0 {
		return false, nil // applied by another process meanwhile
	}
	if _, err := stx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
	}
	if step := goSteps[m.name]; step != nil {
		if err := step(ctx, t); err != nil {
			return false, fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
		}
	}
	if _, err := t.exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, t.time(time.Now())); err != nil {
		return false, fmt.Errorf("sqlstore: migration %s: record: %w", m.name, err)
	}
	if err := stx.Commit(); err != nil {
		return false, fmt.Errorf("sqlstore: migration %s: commit: %w", m.name, err)
	}
	return true, nil
}

// Version returns the schema version: the highest applied migration, 0 for
// an empty database.
func (db *DB) Version(ctx context.Context) (int, error) {
	q := `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`
	if db.dialect == DialectPostgres {
		q = `SELECT COUNT(*) FROM (SELECT to_regclass('schema_migrations') AS t) r WHERE t IS NOT NULL`
	}
	var n int
	if err := db.writer.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := db.writer.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlstore: schema version: %w", err)
	}
	return int(v.Int64), nil
}
