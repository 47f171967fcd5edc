package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func runCLI(t *testing.T, getenv func(string) string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, getenv, &out, &errOut)
	return out.String(), err
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}} {
		_, err := runCLI(t, env(), args...)
		var h errHelp
		if err == nil || !asHelp(err, &h) {
			t.Fatalf("%v: err = %v, want help", args, err)
		}
		for _, want := range []string{"--addr", "LATCHKEY_ADDR", "default 127.0.0.1:8080", "--db", "default sqlite:latchkey.db",
			"--base-url", "--smtp", "--mail-from", "--session-ttl", "default 336h0m0s", "--session-idle", "--ip-limits"} {
			if !strings.Contains(h.usage, want) {
				t.Errorf("%v: help lacks %q", args, want)
			}
		}
	}
}

func asHelp(err error, h *errHelp) bool {
	v, ok := err.(errHelp)
	*h = v
	return ok
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"bad addr", env(), []string{"serve", "--addr", "nonsense"}, "invalid --addr"},
		{"bad port", env(), []string{"serve", "--addr", "127.0.0.1:99999"}, "invalid --addr"},
		{"bad db scheme", env(), []string{"serve", "--db", "mysql://x"}, "invalid --db"},
		{"bad db from env", env("LATCHKEY_DB", "oracle:x"), []string{"serve"}, "invalid --db"},
		{"bad duration from env", env("LATCHKEY_SESSION_TTL", "soon"), []string{"serve"}, "LATCHKEY_SESSION_TTL"},
		{"unknown flag", env(), []string{"serve", "--colour", "blue"}, "flag provided but not defined"},
		{"bad ip limits", env(), []string{"serve", "--ip-limits", "login=fast"}, "invalid --ip-limits"},
		{"bad proxies", env(), []string{"serve", "--trusted-proxies", "10.0.0.0/99"}, "invalid --trusted-proxies"},
		{"bad base url", env(), []string{"serve", "--base-url", "ftp://x"}, "invalid --base-url"},
		{"bad smtp", env(), []string{"serve", "--smtp", "http://mail"}, "invalid --smtp"},
		{"unknown command", env(), []string{"frobnicate"}, "unknown command"},
		{"init without org", env(), []string{"init", "--admin-email", "a@example.org"}, "--org and --admin-email are required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCLI(t, tc.getenv, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is not one line: %q", err)
			}
		})
	}
}

func TestUnreachablePostgres(t *testing.T) {
	_, err := runCLI(t, env(), "migrate", "--db", "postgres://latchkey:s3cret-pw@127.0.0.1:1/latchkey?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("migrate against a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cret-pw") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q leaks the password or spans lines", err)
	}
}

func TestInitMigrateBackup(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "lk.db")
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("a-long-admin-password\n"), 0o600)

	out, err := runCLI(t, env("LATCHKEY_DB", db), "init", "--org", "metro-fire", "--org-name", "Metro Fire",
		"--admin-email", "Chief@Example.org", "--admin-password-file", pwFile)
	if err != nil || !strings.Contains(out, `Created organization "metro-fire" with administrator chief@example.org.`) {
		t.Fatalf("init: %v\n%s", err, out)
	}
	if strings.Contains(out, "temporary password") || strings.Contains(out, "a-long-admin-password") {
		t.Errorf("init with a password file printed a password: %s", out)
	}
	if _, err := runCLI(t, env(), "init", "--db", db, "--org", "metro-fire", "--admin-email", "x@example.org"); err == nil ||
		!strings.Contains(err.Error(), "init:") {
		t.Errorf("second init of the same slug: %v", err)
	}
	out, err = runCLI(t, env(), "init", "--db", db, "--org", "north", "--admin-email", "cy@example.org")
	if err != nil || !strings.Contains(out, "temporary password: ") {
		t.Fatalf("init without a password: %v\n%s", err, out)
	}
	out, err = runCLI(t, env(), "migrate", "--db", db)
	if err != nil || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	copyPath := filepath.Join(dir, "copy.db")
	if out, err = runCLI(t, env(), "backup", "--db", db, copyPath); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	// The copy is a working database holding the organizations.
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, "sqlite:"+copyPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	s.View(ctx, func(tx account.Tx) error {
		n, err = tx.OrgCount(ctx)
		return err
	})
	if n != 2 {
		t.Errorf("the backup holds %d organizations, want 2 (%v)", n, err)
	}
	if _, err := runCLI(t, env(), "backup", "--db", db); err == nil {
		t.Error("backup without a FILE succeeded")
	}
}

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	g := env("LATCHKEY_DB", "sqlite:"+filepath.Join(dir, "lk.db"))
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("a-long-admin-password\n"), 0o600)
	if _, err := runCLI(t, g, "init", "--org", "metro", "--admin-email", "chief@example.org", "--admin-password-file", pwFile); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, g, "user", "create", "--org", "metro", "--email", "Ann@Example.org", "--name", "Ann Lee",
		"--role", "User", "--temporary-password")
	if err != nil || !strings.Contains(out, "(ann@example.org, force_password_reset)") || !strings.Contains(out, "temporary password: ") {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if _, err := runCLI(t, g, "user", "create", "--org", "metro", "--email", "ann@example.org", "--name", "Twice"); err == nil ||
		!strings.Contains(err.Error(), "exists") {
		t.Errorf("duplicate create: %v", err)
	}
	if _, err := runCLI(t, g, "user", "create", "--org", "metro", "--email", "bad", "--name", "X", "--role", "Wizard"); err == nil ||
		!strings.Contains(err.Error(), "email") || !strings.Contains(err.Error(), "Wizard") {
		t.Errorf("bad create: %v", err)
	}
	out, err = runCLI(t, g, "user", "list", "--org", "metro", "--q", "ann")
	if err != nil || !strings.Contains(out, "ann@example.org") || strings.Contains(out, "chief@") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, err := runCLI(t, g, "user", "delete", "--org", "metro", "--email", "chief@example.org"); err == nil ||
		!strings.Contains(err.Error(), "last administrator") {
		t.Errorf("deleting the last administrator: %v", err)
	}
	if out, err := runCLI(t, g, "user", "delete", "--org", "metro", "--email", "ann@example.org"); err != nil {
		t.Fatalf("delete: %v %s", err, out)
	}
	if out, _ := runCLI(t, g, "user", "list", "--org", "metro"); strings.Contains(out, "ann@") {
		t.Errorf("deleted user listed: %s", out)
	}
	if _, err := runCLI(t, g, "user", "list", "--org", "nowhere"); err == nil {
		t.Error("list of an unknown organization succeeded")
	}
}

func TestUserRecoveryCommands(t *testing.T) {
	dir := t.TempDir()
	g := env("LATCHKEY_DB", "sqlite:"+filepath.Join(dir, "lk.db"))
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("a-long-admin-password\n"), 0o600)
	if _, err := runCLI(t, g, "init", "--org", "metro", "--admin-email", "chief@example.org", "--admin-password-file", pwFile); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, g, "user", "create", "--org", "metro", "--email", "ann@example.org", "--name", "Ann Lee", "--password-file", pwFile); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, g, "user", "temp-password", "--org", "metro", "--email", "ann@example.org", "--reason", "ticket 9")
	if err != nil || !strings.Contains(out, "temporary password: ") {
		t.Fatalf("temp-password: %v\n%s", err, out)
	}
	if out, err := runCLI(t, g, "user", "unlock", "--org", "metro", "--email", "ann@example.org"); err != nil || !strings.Contains(out, "Unlocked") {
		t.Fatalf("unlock: %v %s", err, out)
	}
	newPw := filepath.Join(dir, "new")
	os.WriteFile(newPw, []byte("short\n"), 0o600)
	if _, err := runCLI(t, g, "user", "reset-password", "--org", "metro", "--email", "ann@example.org", "--password-file", newPw); err == nil ||
		!strings.Contains(err.Error(), "At least 12 characters") {
		t.Errorf("a short password: %v", err)
	}
	os.WriteFile(newPw, []byte("another-long-password\n"), 0o600)
	if out, err := runCLI(t, g, "user", "reset-password", "--org", "metro", "--email", "ann@example.org", "--password-file", newPw); err != nil {
		t.Fatalf("reset-password: %v %s", err, out)
	}
	if _, err := runCLI(t, g, "user", "unlock", "--org", "metro", "--email", "nobody@example.org"); err == nil {
		t.Error("unlock of an unknown email succeeded")
	}
}

func TestImportExportCommands(t *testing.T) {
	dir := t.TempDir()
	g := env("LATCHKEY_DB", "sqlite:"+filepath.Join(dir, "lk.db"))
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("a-long-admin-password\n"), 0o600)
	if _, err := runCLI(t, g, "init", "--org", "metro", "--admin-email", "chief@example.org", "--admin-password-file", pwFile); err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "users.csv")
	os.WriteFile(csvPath, []byte("email;name;roles\nann@example.org;Ann Lee;\"User\"\nbad;Bad;\n"), 0o600)
	out, err := runCLI(t, g, "import", "--org", "metro", "--dry-run", csvPath)
	if err == nil || !strings.Contains(out, "row 2\tcreate\tann@example.org") || !strings.Contains(out, "row 3\treject\tbad") ||
		!strings.Contains(out, "Dry run, nothing written: 2 rows: 1 created") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if out, _ := runCLI(t, g, "user", "list", "--org", "metro", "--q", "ann"); strings.Contains(out, "ann@") {
		t.Fatalf("a dry run wrote: %s", out)
	}
	os.WriteFile(csvPath, []byte("email,name\nann@example.org,Ann Lee\n"), 0o600)
	if out, err := runCLI(t, g, "import", "--org", "metro", csvPath); err != nil || !strings.Contains(out, "1 created") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := runCLI(t, g, "import", "--org", "metro", csvPath); err != nil || !strings.Contains(out, "0 created, 0 updated, 1 unchanged") {
		t.Fatalf("re-run: %v\n%s", err, out)
	}
	out, err = runCLI(t, g, "export", "--org", "metro")
	if err != nil || !strings.HasPrefix(out, "id,email,name,kind,roles,status") || !strings.Contains(out, "ann@example.org") {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if _, err := runCLI(t, g, "import", "--org", "metro", filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("a missing file imported")
	}
}
