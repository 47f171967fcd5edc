package account_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/importer"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// BenchmarkImport loads LATCHKEY_BENCH_IMPORT_ROWS (default 100,000) rows
// without passwords into SQLite and PostgreSQL through the service, and
// reports rows/s and the peak heap.
func BenchmarkImport(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("LATCHKEY_BENCH_IMPORT_ROWS")); err == nil && v > 0 {
		n = v
	}
	var sb strings.Builder
	sb.WriteString("email,name,kind,roles,send_welcome\n")
	for i := range n {
		fmt.Fprintf(&sb, "user%06d@example.org,User %06d,staff,User,no\n", i, i)
	}
	file := []byte(sb.String())
	for _, db := range []struct {
		name string
		open func(testing.TB, int) []*sqlstore.DB
	}{{"sqlite", sqliteDBs}, {"postgres", postgresDBs}} {
		b.Run(db.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dbs := db.open(b, 1)
				svc := account.NewService(dbs[0], password.NewHasher(password.DefaultParams(), password.DefaultLimiter()), nil, nil, account.DefaultConfig())
				ctx := context.Background()
				if _, err := svc.Init(ctx, account.InitInput{Slug: "metro", AdminEmail: "chief@example.org", AdminPassword: "chief-long-password"}); err != nil {
					b.Fatal(err)
				}
				a, _ := svc.OperatorActor(ctx, "metro")
				runtime.GC()
				var peak atomic.Uint64
				done := make(chan struct{})
				go func() {
					var ms runtime.MemStats
					for {
						select {
						case <-done:
							return
						case <-time.After(20 * time.Millisecond):
						}
						runtime.ReadMemStats(&ms)
						if ms.HeapInuse > peak.Load() {
							peak.Store(ms.HeapInuse)
						}
					}
				}()
				b.StartTimer()
				start := time.Now()
				rep, err := svc.Import(ctx, a, account.ImportInput{Format: importer.CSV, File: file, Wait: true})
				el := time.Since(start)
				b.StopTimer()
				close(done)
				if err != nil || rep.Created != n {
					b.Fatalf("import: %v, created %d of %d", err, rep.Created, n)
				}
				b.ReportMetric(float64(n)/el.Seconds(), "rows/s")
				b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
				b.StartTimer()
			}
		})
	}
}
