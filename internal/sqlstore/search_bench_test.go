package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/latchkey/latchkey/internal/account"
)

// BenchmarkSearch loads LATCHKEY_BENCH_USERS users (default 1,000,000) into
// one organization of SQLite and of PostgreSQL, then times ListUsers, in a
// View as the API runs it, for each kind of search: first pages of 20 in the
// list's order. It prints load times and p50/p99 per kind. Run it with a
// fixed count so that every kind gets the same number of queries:
//
//	go test -run '^$' -bench Search -benchtime 300x -timeout 60m ./internal/sqlstore
func BenchmarkSearch(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("LATCHKEY_BENCH_USERS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1000 {
			b.Fatalf("LATCHKEY_BENCH_USERS = %q, want a number >= 1000", s)
		}
		n = v
	}
	users := benchUsers(n)
	var results []benchResult
	loads := map[string]time.Duration{}
	for _, d := range []struct {
		name string
		url  func(testing.TB) string
	}{{DialectSQLite, sqliteURL}, {DialectPostgres, postgresURL}} {
		b.Run(d.name, func(b *testing.B) {
			load, rs := benchDialect(b, d.url(b), users)
			loads[d.name] = load
			results = append(results, rs...)
		})
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\nListUsers, %d users in one organization, first page of %d\n", n, benchPage)
	for _, d := range []string{DialectSQLite, DialectPostgres} {
		if l, ok := loads[d]; ok {
			fmt.Fprintf(w, "%s: load %.1f s\n", d, l.Seconds())
		}
	}
	fmt.Fprintln(w, "database\tsearch\tqueries\tp50 ms\tp99 ms\tmax ms\trows/page\t")
	for _, r := range results {
		fmt.Fprintf(w, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.1f\t\n", r.dialect, r.kind, r.n, ms(r.p50), ms(r.p99), ms(r.max), r.rows)
	}
	w.Flush()
}

const benchPage = 20

type benchResult struct {
	dialect, kind string
	n             int
	p50, p99, max time.Duration
	rows          float64
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchUser is one generated user.
type benchUser struct {
	name, email, last string
	kind              account.Kind
	status            account.Status
	synthetic         bool // a rare, made-up last name
}

var (
	benchFirst = []string{"Émile", "Zoé", "Chloé", "José", "François", "Hélène", "Jürgen", "Søren", "Ana", "Anaïs",
		"Noël", "Björn", "Ève", "Joël", "Renée", "Léa", "Inès", "Andrés", "Ángel", "Mónica", "Łukasz", "Zoë", "Mary",
		"John", "Mohammed", "Wei", "Priya", "Aisha", "Olivia", "Liam", "Noah", "Emma", "Sofia", "Lucas", "Mia", "Hugo",
		"Chiara", "Marta", "Tomás", "Ayşe", "Daniel", "Anna", "Marie", "Jean", "Ann", "Siobhán", "Dmitri", "Yuki"}
	benchLast = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
		"Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "García", "Müller", "Schmidt", "Smith", "Johnson", "Nguyen",
		"Kim", "Rossi", "Ferrari", "Novak", "Kowalski", "Jensen", "Hansen", "Andersson", "O'Brien", "Núñez", "Lee",
		"Brown", "Wilson", "Taylor", "Dupont", "Fontaine", "Chevalier", "Gómez", "Pérez", "Sánchez", "Weber", "Wagner",
		"Becker", "Hoffmann", "Ivanov", "Popescu", "Horváth", "Yılmaz"}
	benchSyllables = []string{"ka", "zu", "mi", "ro", "ten", "vo", "li", "qua", "bel", "dor", "fi", "gra", "hu", "jo",
		"ke", "lu", "mor", "nix", "pe", "ras", "sil", "tov", "ur", "vek", "wy", "xa", "yo", "zim", "bra", "cle"}
	benchDomains = []string{"example.org", "mail.example.com", "city.example.gov", "post.example.net"}
)

// benchUsers generates n users, the same every run.
func benchUsers(n int) []benchUser {
	r := rand.New(rand.NewPCG(1, 2))
	us := make([]benchUser, n)
	for i := range us {
		u := &us[i]
		first := benchFirst[r.IntN(len(benchFirst))]
		if r.IntN(10) < 3 {
			var b strings.Builder
			for range 2 + r.IntN(3) {
				b.WriteString(benchSyllables[r.IntN(len(benchSyllables))])
			}
			s := b.String()
			u.last, u.synthetic = strings.ToUpper(s[:1])+s[1:], true
		} else {
			u.last = benchLast[r.IntN(len(benchLast))]
		}
		u.name = first + " " + u.last
		u.email = asciiLocal(first) + "." + asciiLocal(u.last) + strconv.Itoa(i+1) + "@" + benchDomains[r.IntN(len(benchDomains))]
		switch k := r.IntN(100); {
		case k < 15:
			u.kind = account.KindStaff
		case k < 20:
			u.kind = account.KindBusiness
		default:
			u.kind = account.KindResident
		}
		u.status = account.StatusActive
		if r.IntN(100) < 3 {
			u.status = account.StatusDisabled
		}
	}
	return us
}

// asciiLocal is s as people write it in an email: folded, letters only.
func asciiLocal(s string) string {
	repl := strings.NewReplacer("ø", "o", "ł", "l", "ı", "i")
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, repl.Replace(account.FoldName(s)))
}

// benchKind is a kind of search with its queries.
type benchKind struct {
	name    string
	filters []account.UserFilter
}

func benchKinds(us []benchUser, r *rand.Rand) []benchKind {
	const m = 256
	kinds := []benchKind{
		{name: "ID (q=<id>)"}, {name: "email prefix"}, {name: "name, rare"}, {name: "name, common 'an'"},
		{name: "name, common last name"}, {name: "name, common first name"}, {name: "no match"}, {name: "unfiltered"},
		{name: "unfiltered, deep cursor"},
	}
	// About 1.5% of users each, spread through the list's order (last
	// names) or all together in it (first names, which start name_key).
	lasts := []string{"martin", "lee", "dupont", "garcía", "weber", "o'brien"}
	firsts := []string{"ann", "emma", "jean", "yuki", "zoé", "mar"}
	var rare []int
	for i, u := range us {
		if u.synthetic {
			rare = append(rare, i)
		}
	}
	for range m {
		i := r.IntN(len(us))
		u := us[i]
		local, _, _ := strings.Cut(u.email, "@")
		num := strconv.Itoa(i + 1)
		prefix := strings.TrimSuffix(local, num) + num[:min(2, len(num))]
		rareU := us[rare[r.IntN(len(rare))]]
		add := func(k int, f account.UserFilter) { kinds[k].filters = append(kinds[k].filters, f) }
		add(0, account.UserFilter{Q: strconv.Itoa(i + 1)})
		add(1, account.UserFilter{Q: prefix})
		add(2, account.UserFilter{Q: rareU.last})
		add(3, account.UserFilter{Q: "an"})
		add(4, account.UserFilter{Q: lasts[r.IntN(len(lasts))]})
		add(5, account.UserFilter{Q: firsts[r.IntN(len(firsts))]})
		add(6, account.UserFilter{Q: "qzx" + strconv.Itoa(r.IntN(100))})
		add(7, account.UserFilter{})
		add(8, account.UserFilter{After: &account.UserCursor{NameKey: account.FoldName(u.name), ID: account.UserID(i + 1)}})
	}
	for k := range kinds {
		for j := range kinds[k].filters {
			kinds[k].filters[j].Kinds = []account.Kind{account.KindStaff, account.KindResident, account.KindBusiness}
			kinds[k].filters[j].Limit = benchPage + 1 // as the service asks
		}
	}
	return kinds
}

func benchDialect(b *testing.B, url string, us []benchUser) (time.Duration, []benchResult) {
	ctx := context.Background()
	db := mustOpen(b, url)
	o := account.Org{Slug: "bench", Name: "Bench", Settings: account.DefaultSettings()}
	err := db.Tx(ctx, func(tx account.Tx) error {
		if err := tx.CreateOrg(ctx, &o); err != nil {
			return err
		}
		for _, r := range account.DefaultRoles(o.ID) {
			if err := tx.CreateRole(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if db.Dialect() == DialectPostgres {
		err = benchLoadPostgres(ctx, db, o.ID, us)
	} else {
		err = benchLoadSQLite(ctx, db, o.ID, us)
	}
	if err != nil {
		b.Fatalf("load: %v", err)
	}
	load := time.Since(start)
	fmt.Printf("%s: loaded %d users in %v\n", db.Dialect(), len(us), load.Round(100*time.Millisecond))
	var results []benchResult

	for _, k := range benchKinds(us, rand.New(rand.NewPCG(3, 4))) {
		b.Run(strings.NewReplacer(" ", "_", "'", "", ",", "", "(", "", ")", "", "<", "", ">", "", "=", "").Replace(k.name), func(b *testing.B) {
			var ds []time.Duration
			rows := 0
			i := 0
			for b.Loop() {
				f := k.filters[i%len(k.filters)]
				i++
				t0 := time.Now()
				var got []account.User
				err := db.View(ctx, func(tx account.Tx) (err error) {
					got, err = tx.ListUsers(ctx, o.ID, f)
					return err
				})
				ds = append(ds, time.Since(t0))
				if err != nil {
					b.Fatalf("ListUsers(%+v): %v", f, err)
				}
				rows += len(got)
			}
			slices.Sort(ds)
			r := benchResult{dialect: db.Dialect(), kind: k.name, n: len(ds), p50: ds[len(ds)/2],
				p99: ds[min(len(ds)-1, len(ds)*99/100)], max: ds[len(ds)-1], rows: float64(rows) / float64(len(ds))}
			b.ReportMetric(ms(r.p50), "p50-ms")
			b.ReportMetric(ms(r.p99), "p99-ms")
			results = append(results, r)
		})
	}
	return load, results
}

// benchRow returns the users row of us[i], in the column order of
// benchCols, as CreateUser writes it.
const benchCols = `id, org_id, email, name, name_key, kind, status, auth_source, password_hash, temp_password_hash,
	temp_password_expires_at, require_password_change, locked_until, failed_logins, last_login_at, password_changed_at,
	created_at, updated_at`

func benchRow(t *tx, org account.OrgID, i int, u benchUser, at time.Time) []any {
	return []any{int64(i + 1), int64(org), u.email, u.name, account.FoldName(u.name), string(u.kind), string(u.status),
		string(account.AuthLocal), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo", "", nil, false, nil, 0,
		nil, t.time(at), t.time(at), t.time(at)}
}

// benchLoadSQLite inserts us in one transaction, 500 rows a statement; the
// triggers fill users_fts as for CreateUser. Staff get the User role.
func benchLoadSQLite(ctx context.Context, db *DB, org account.OrgID, us []benchUser) error {
	stx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer stx.Rollback()
	t := &tx{tx: stx, write: true}
	var role int64
	if err := t.queryRow(ctx, `SELECT id FROM roles WHERE org_id = ? AND name = ?`, int64(org), account.RoleUser).Scan(&role); err != nil {
		return err
	}
	ncol := strings.Count(benchCols, ",") + 1
	rowSQL := "(?" + strings.Repeat(", ?", ncol-1) + ")"
	at := time.Now()
	const batch = 500
	for lo := 0; lo < len(us); lo += batch {
		hi := min(lo+batch, len(us))
		var args, roleArgs []any
		var staff int
		for i := lo; i < hi; i++ {
			args = append(args, benchRow(t, org, i, us[i], at)...)
			if us[i].kind == account.KindStaff {
				roleArgs = append(roleArgs, int64(i+1), role)
				staff++
			}
		}
		q := `INSERT INTO users (` + benchCols + `) VALUES ` + rowSQL + strings.Repeat(", "+rowSQL, hi-lo-1)
		if _, err := stx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		if staff > 0 {
			q := `INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)` + strings.Repeat(", (?, ?)", staff-1)
			if _, err := stx.ExecContext(ctx, q, roleArgs...); err != nil {
				return err
			}
		}
	}
	return stx.Commit()
}

// benchLoadPostgres copies us in (COPY, one transaction), moves the identity
// past the IDs it set and analyzes the table, as autovacuum would.
func benchLoadPostgres(ctx context.Context, db *DB, org account.OrgID, us []benchUser) error {
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var role int64
	if err := conn.QueryRowContext(ctx, `SELECT id FROM roles WHERE org_id = $1 AND name = $2`, int64(org), account.RoleUser).Scan(&role); err != nil {
		return err
	}
	cols := strings.Fields(strings.ReplaceAll(benchCols, ",", " "))
	at := time.Now()
	t := &tx{pg: true}
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		ptx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer ptx.Rollback(ctx)
		if _, err := ptx.CopyFrom(ctx, pgx.Identifier{"users"}, cols, pgx.CopyFromSlice(len(us), func(i int) ([]any, error) {
			return benchRow(t, org, i, us[i], at), nil
		})); err != nil {
			return err
		}
		var staff [][]any
		for i, u := range us {
			if u.kind == account.KindStaff {
				staff = append(staff, []any{int64(i + 1), role})
			}
		}
		if _, err := ptx.CopyFrom(ctx, pgx.Identifier{"user_roles"}, []string{"user_id", "role_id"}, pgx.CopyFromRows(staff)); err != nil {
			return err
		}
		return ptx.Commit(ctx)
	})
	if err != nil {
		return err
	}
	for _, q := range []string{
		`SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT MAX(id) FROM users))`,
		`VACUUM ANALYZE users`,
		`VACUUM ANALYZE user_roles`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}
