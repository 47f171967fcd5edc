package account_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeps keeps the domain free of HTTP and SQL: handlers translate, the
// service decides, the store persists. It checks what internal/account and
// every Latchkey package it builds on import themselves; a library deeper
// down (excelize links net/http for remote pictures) is not our layering.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \",\"}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	ours := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(pkg, "github.com/latchkey/latchkey/") {
			continue
		}
		ours++
		for _, imp := range strings.Split(imports, ",") {
			switch {
			case slices.Contains([]string{"net/http", "database/sql"}, imp),
				strings.HasSuffix(imp, "/internal/web"), strings.HasSuffix(imp, "/internal/sqlstore"), strings.HasSuffix(imp, "/internal/mail"):
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
	if ours < 2 {
		t.Fatalf("go list found %d Latchkey packages, want account and what it builds on", ours)
	}
}
