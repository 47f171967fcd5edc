package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// flagSet is one subcommand's flags; each flag falls back to its LATCHKEY_*
// environment variable, and the command line wins over both.
type flagSet struct {
	*flag.FlagSet
	cmd    string
	getenv func(string) string
	args   string // the positional arguments, for the usage line
}

func newFlagSet(cmd, args string, getenv func(string) string) *flagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flagSet{FlagSet: fs, cmd: cmd, getenv: getenv, args: args}
}

// envName is the variable of a flag: --base-url reads LATCHKEY_BASE_URL.
func envName(flag string) string {
	return "LATCHKEY_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// errHelp asks run to print usage and succeed.
type errHelp struct{ usage string }

func (e errHelp) Error() string { return e.usage }

// parse reads the environment, then the command line. A bad value is one line
// naming the flag or variable.
func (f *flagSet) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp{f.usage()}
		}
		return fmt.Errorf("%s: %v (see latchkey %s --help)", f.cmd, err, f.cmd)
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var err error
	f.VisitAll(func(fl *flag.Flag) {
		if set[fl.Name] || err != nil {
			return
		}
		if v := f.getenv(envName(fl.Name)); v != "" {
			if e := fl.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: invalid value %q for %s: %v", f.cmd, v, envName(fl.Name), e)
			}
		}
	})
	return err
}

// usage lists the flags with their variables and defaults.
func (f *flagSet) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: latchkey %s [flags]%s\n\nFlags (each also read from its environment variable):\n", f.cmd, f.args)
	f.VisitAll(func(fl *flag.Flag) {
		def := fl.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(&b, "  --%-22s %s\n  %-24s (%s, default %s)\n", fl.Name, fl.Usage, "", envName(fl.Name), def)
	})
	return b.String()
}
