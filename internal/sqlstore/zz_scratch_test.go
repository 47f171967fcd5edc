package sqlstore

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// scratch: LATCHKEY_SCRATCH=1 go test -run Scratch -v
func scratchDB(t *testing.T) *DB {
	if os.Getenv("LATCHKEY_SCRATCH") == "" {
		t.Skip()
	}
	path := "/tmp/lkscratch.db"
	_, err := os.Stat(path)
	fresh := err != nil
	db, err := Open(context.Background(), "sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fresh {
		ctx := context.Background()
		o := account.Org{Slug: "bench", Name: "Bench", Settings: account.DefaultSettings()}
		db.Tx(ctx, func(tx account.Tx) error {
			tx.CreateOrg(ctx, &o)
			for _, r := range account.DefaultRoles(o.ID) {
				tx.CreateRole(ctx, r)
			}
			return nil
		})
		if err := benchLoadSQLite(ctx, db, o.ID, benchUsers(1000000)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.writer.Exec(`CREATE VIRTUAL TABLE IF NOT EXISTS users_fts_v USING fts5vocab(users_fts, 'row')`); err != nil {
		t.Fatal(err)
	}
	return db
}

func timeQ(t *testing.T, db *DB, name, q string, args ...any) {
	var ds []time.Duration
	n := 0
	for range 20 {
		t0 := time.Now()
		rows, err := db.reader.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		n = 0
		for rows.Next() {
			n++
		}
		rows.Close()
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	t.Logf("%-40s rows=%6d p50=%v max=%v", name, n, ds[10], ds[19])
}
