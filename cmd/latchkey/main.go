// Command latchkey is Latchkey's one binary: the account service (serve) and
// the operator's commands (init, migrate, backup).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var h errHelp
		if errors.As(err, &h) {
			fmt.Fprint(os.Stdout, h.usage)
			return
		}
		fmt.Fprintln(os.Stderr, "latchkey: "+err.Error())
		os.Exit(1)
	}
}

const usage = `Latchkey: accounts, sign-in and getting locked-out people back in.

Usage: latchkey COMMAND [flags]

Commands:
  serve     run the web service and API (the default database is sqlite:latchkey.db)
  init      create an organization and its first administrator
  migrate   bring the database schema up to date
  backup    write an online copy of a SQLite database to FILE
  user      list, create, delete users, reset passwords, unlock (latchkey user --help)
  import    add or update users from a CSV or XLSX file (--dry-run to preview)
  export    write the organization's users as CSV

Run "latchkey COMMAND --help" for a command's flags. Every flag also reads an
environment variable: --db reads LATCHKEY_DB, --base-url LATCHKEY_BASE_URL, and so on.
`

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return topHelp(ctx, getenv)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "--help", "-help", "help":
		return topHelp(ctx, getenv)
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "init":
		return runInit(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, getenv, stdout, stderr)
	case "user":
		return runUser(ctx, rest, getenv, stdout, stderr)
	case "import":
		return runImport(ctx, rest, getenv, stdout, stderr)
	case "export":
		return runExport(ctx, rest, getenv, stdout, stderr)
	}
	return fmt.Errorf("unknown command %q (see latchkey --help)", cmd)
}

// topHelp is the overview, with the flags of serve and their defaults.
func topHelp(ctx context.Context, getenv func(string) string) error {
	var h errHelp
	errors.As(runServe(ctx, []string{"--help"}, getenv, io.Discard, io.Discard), &h)
	return errHelp{usage + "\n" + h.usage}
}
