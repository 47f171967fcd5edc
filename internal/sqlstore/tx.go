package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey/internal/account"
)

// tx is one transaction; it implements account.Tx. Queries are written with
// ? placeholders and rebound to $n for PostgreSQL.
type tx struct {
	tx     querier // *sql.Tx, or the *sql.DB itself outside a transaction
	pg     bool
	write  bool // Tx, not View: lookups lock rows on PostgreSQL
	tuning searchTuning
}

var _ account.Tx = (*tx)(nil)

// querier is what a tx runs its statements on: a transaction, or a pool
// whose statements each commit on their own.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.bind(query), args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.bind(query), args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.bind(query), args...)
}

func (t *tx) bind(query string) string {
	if t.pg {
		return rebind(query)
	}
	return query
}

// rebind turns each ? outside a quoted string into $1, $2, ….
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// sqliteTime is how SQLite stores times: TEXT in UTC with a fixed six-digit
// fraction, so that strings sort as the times do (RFC3339Nano drops trailing
// zeros and would not).
const sqliteTime = "2006-01-02T15:04:05.000000Z"

// normTime is the precision both databases keep: UTC, whole microseconds.
func normTime(v time.Time) time.Time { return v.UTC().Truncate(time.Microsecond) }

// time returns v as a query argument.
func (t *tx) time(v time.Time) any {
	v = normTime(v)
	if t.pg {
		return v
	}
	return v.Format(sqliteTime)
}

// timePtr returns v as a query argument, NULL for nil.
func (t *tx) timePtr(v *time.Time) any {
	if v == nil {
		return nil
	}
	return t.time(*v)
}

// timeCol scans a time column of either dialect into *p, in UTC.
type timeCol struct{ p *time.Time }

func (c timeCol) Scan(src any) error {
	v, err := parseTime(src)
	if err != nil {
		return err
	}
	if v == nil {
		return errors.New("sqlstore: NULL in a NOT NULL time column")
	}
	*c.p = *v
	return nil
}

// nullTimeCol scans a nullable time column into *p, nil for NULL.
type nullTimeCol struct{ p **time.Time }

func (c nullTimeCol) Scan(src any) error {
	v, err := parseTime(src)
	if err != nil {
		return err
	}
	*c.p = v
	return nil
}

func parseTime(src any) (*time.Time, error) {
	var s string
	switch v := src.(type) {
	case nil:
		return nil, nil
	case time.Time:
		v = normTime(v)
		return &v, nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return nil, fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: bad time %q: %w", s, err)
	}
	v = normTime(v)
	return &v, nil
}

// idPtr returns a nullable user ID as a query argument.
func idPtr(id *account.UserID) any {
	if id == nil {
		return nil
	}
	return int64(*id)
}

// isUnique reports whether err is a unique or primary key violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// forUpdate returns the clause that locks the selected rows until the
// transaction ends: FOR UPDATE in a PostgreSQL Tx, nothing otherwise (SQLite's
// one writer already runs write transactions one at a time, and a View writes
// nothing).
func (t *tx) forUpdate() string {
	if t.pg && t.write {
		return " FOR UPDATE"
	}
	return ""
}

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503" // foreign_key_violation
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// notFound turns sql.ErrNoRows into account.ErrNotFound and wraps the rest.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return account.ErrNotFound
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// affected returns account.ErrNotFound when res changed no row.
func affected(op string, res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if n == 0 {
		return account.ErrNotFound
	}
	return nil
}
