package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/importer"
)

// isTerminal reports whether w is a terminal, for the progress line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		c        common
		org      string
		dry, all bool
	)
	fs := newFlagSet("import", " FILE.csv|FILE.xlsx", getenv)
	fs.StringVar(&org, "org", "", "organization slug (required)")
	fs.BoolVar(&dry, "dry-run", false, "report what would happen to each row, and change nothing")
	fs.BoolVar(&all, "all-or-nothing", false, "write nothing when any row is rejected")
	c.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if org == "" || fs.NArg() != 1 {
		return errors.New("import: give --org SLUG and one FILE.csv or FILE.xlsx")
	}
	if err := c.check(); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	path := fs.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	format, err := importer.DetectFormat("", filepath.Base(path), data[:min(len(data), 512)])
	if err != nil {
		return fmt.Errorf("import: %s: %w", path, err)
	}
	db, svc, err := c.open(ctx, c.logger(stderr), nil)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer db.Close()
	a, err := svc.OperatorActor(ctx, org)
	if err != nil {
		return fmt.Errorf("import: organization %q: %s", org, describe(err))
	}
	tty := isTerminal(stderr)
	rep, err := svc.Import(ctx, a, account.ImportInput{Format: format, File: data, DryRun: dry, AllOrNothing: all, Wait: true,
		Progress: func(r account.ImportReport) {
			if tty {
				fmt.Fprintf(stderr, "\r%d of %d rows", r.Processed, r.Total)
			}
		}})
	if tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		return fmt.Errorf("import: %s", describe(err))
	}
	problems := map[int][]string{}
	for _, p := range rep.Errors {
		problems[p.Row] = append(problems[p.Row], p.Field+": "+p.Message)
	}
	for _, r := range rep.Rows {
		line := fmt.Sprintf("row %d\t%s\t%s", r.Row, r.Action, r.Email)
		if ps := problems[r.Row]; len(ps) > 0 {
			line += "\t" + strings.Join(ps, "; ")
		}
		fmt.Fprintln(stdout, line)
	}
	verb := "Imported"
	if dry {
		verb = "Dry run, nothing written"
	}
	fmt.Fprintf(stdout, "%s: %d rows: %d created, %d updated, %d unchanged, %d rejected.\n",
		verb, rep.Total, rep.Created, rep.Updated, rep.Unchanged, rep.Failed)
	if rep.Error != "" {
		fmt.Fprintln(stdout, rep.Error)
	}
	if rep.Failed > 0 {
		return fmt.Errorf("import: %d rows were rejected", rep.Failed)
	}
	return nil
}

func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		c           common
		org, format string
	)
	fs := newFlagSet("export", "", getenv)
	fs.StringVar(&org, "org", "", "organization slug (required)")
	fs.StringVar(&format, "format", "csv", "output format: csv")
	c.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if org == "" {
		return errors.New("export: --org is required")
	}
	if format != "csv" {
		return fmt.Errorf("export: unsupported --format %q (want csv)", format)
	}
	if err := c.check(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	db, svc, err := c.open(ctx, c.logger(stderr), nil)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer db.Close()
	a, err := svc.OperatorActor(ctx, org)
	if err != nil {
		return fmt.Errorf("export: organization %q: %s", org, describe(err))
	}
	cw := importer.NewCSVWriter(stdout)
	if err := svc.ExportUsers(ctx, a, cw.Write); err != nil {
		return fmt.Errorf("export: %s", describe(err))
	}
	return cw.Flush()
}
