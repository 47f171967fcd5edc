package web_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// everyProblem is one row of each kind an import rejects, and rows that pass.
var everyProblem = [][]string{
	{"email", "name", "kind", "roles", "password", "password_hash", "send_welcome"},
	{"ok@example.org", "Fine Row", "staff", "User", "", "", "no"},
	{"not-an-email", "Bad Email", "staff", "", "", "", ""},
	{"ok@example.org", "Same Email Again", "staff", "", "", "", ""},
	{"kind@example.org", "Bad Kind", "alien", "", "", "", ""},
	{"role@example.org", "Bad Role", "staff", "Wizard", "", "", ""},
	{"short@example.org", "Short Password", "staff", "", "short", "", ""},
	{"hash@example.org", "Bad Hash", "staff", "", "", "$2b$31$" + strings.Repeat("a", 53), ""},
	{"both@example.org", "Both", "staff", "", "a-long-enough-password", "$2b$04$abcdefghijklmnopqrstuu", ""},
	{"welcome@example.org", "Bad Welcome", "staff", "", "", "", "perhaps"},
	{"", "No Email", "staff", "", "", "", ""},
	{"admin@example.org", "Escalation", "staff", "Administrator", "", "", "no"},
	{"resident@example.org", "A Resident", "resident", "", "", "", "no"},
}

func csvOf(rows [][]string) []byte {
	var b bytes.Buffer
	for _, r := range rows {
		for i, c := range r {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(c)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func xlsxOf(t *testing.T, rows [][]string) []byte {
	f := excelize.NewFile()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		vals := make([]any, len(r))
		for j, c := range r {
			vals[j] = c
		}
		if err := f.SetSheetRow("Sheet1", cell, &vals); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestImport_reportGolden compares the dry-run report of a file with every
// kind of problem, as CSV and as XLSX, with testdata/import-report.golden.json.
// go test ./internal/web -run ReportGolden -update rewrites it.
func TestImport_reportGolden(t *testing.T) {
	e := newEnv(t, envOpts{})
	admin := e.token()
	// The importer is a help desk that may import staff but not grant Administrator.
	e.call("POST", "/api/v1/roles", admin, map[string]any{"name": "Importer",
		"permissions": []string{"users.read", "users.create", "users.update", "users.import", "community.read", "community.import", "community.create"}})
	e.createUser(admin, map[string]any{"email": "imp@example.org", "name": "Imp", "kind": "staff", "roles": []string{"Importer"}, "password": pw})
	_, imp := e.loginAs("metro", "imp@example.org", pw)
	reports := map[string]any{}
	for _, f := range []struct {
		name, ct string
		body     []byte
	}{
		{"csv", "text/csv", csvOf(everyProblem)},
		{"xlsx", xlsxType, xlsxOf(t, everyProblem)},
	} {
		st, m := e.upload(imp, "?dry_run=true", f.ct, f.body)
		if st != 200 {
			t.Fatalf("%s: %d %v", f.name, st, m)
		}
		reports[f.name] = map[string]any{"rows": m["rows"], "errors": m["errors"], "created": m["created"], "failed": m["failed"]}
	}
	got, _ := json.MarshalIndent(reports, "", "  ")
	path := filepath.Join("testdata", "import-report.golden.json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("the report differs from %s (rerun with -update if the change is right):\n%s", path, got)
	}
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
