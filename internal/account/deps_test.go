package account_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the domain free of HTTP and SQL: handlers translate, the
// service decides, the store persists.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 5 {
		t.Fatalf("go list -deps gave %d packages, want the real list", len(deps))
	}
	for _, d := range deps {
		switch {
		case d == "net/http", d == "database/sql",
			strings.HasSuffix(d, "/internal/web"), strings.HasSuffix(d, "/internal/sqlstore"), strings.HasSuffix(d, "/internal/mail"):
			t.Errorf("internal/account depends on %s", d)
		}
	}
}
