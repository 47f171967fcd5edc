// Command loadtest measures how many sign-ins a running Latchkey server
// completes per second, and how close that comes to the raw argon2id hash
// rate of the machine, which bounds it: every sign-in verifies one password.
//
//	go run ./internal/loadtest -email bench@example.org -password-file pw.txt -pid 1234
//
// For each concurrency level of -clients, that many goroutines post
// POST /api/v1/auth/login for -duration, and the tool reports successful
// logins per second, errors by status, latency percentiles and the ratio of
// logins per second to the raw hash rate measured in-process just before and
// just after the level. With -pid (a server on this machine) it also reports
// the server's CPU time per login, the CPU time beyond the password hash, and
// its memory; with -db-pid the database server's CPU per login; and always
// the whole machine's busy CPU per login and how much of it stayed idle.
//
// The tool only talks to loopback addresses, and each level stops by itself
// after -duration or -max-logins requests, whichever comes first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// Limits that keep one run bounded whatever the flags say.
const (
	maxClients  = 1024
	maxDuration = 10 * time.Minute
	maxLogins   = 1_000_000
)

type config struct {
	URL          string
	Org          string
	Email        string
	Password     string
	Clients      []int
	Duration     time.Duration
	MaxLogins    int
	PID          int
	DBPID        int
	JSON         bool
	HashDuration time.Duration
	Wait         time.Duration
	Timeout      time.Duration
	// Mode is "login" (sign in) or "forgot" (POST /auth/forgot-password,
	// alternating the known email with unknown ones; 202 counts as done).
	Mode string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	fs.StringVar(&c.Org, "org", "default", "organization slug")
	fs.StringVar(&c.Email, "email", "", "email of an active user (required)")
	fs.StringVar(&c.Password, "password", "", "the user's password")
	passwordFile := fs.String("password-file", "", "file holding the user's password (first line)")
	clients := fs.String("clients", "4,16,64", "comma-separated concurrency levels")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "duration of each level")
	fs.IntVar(&c.MaxLogins, "max-logins", 200_000, "at most this many requests per level")
	fs.IntVar(&c.PID, "pid", 0, "PID of the server on this machine, to report its CPU and memory")
	fs.IntVar(&c.DBPID, "db-pid", 0, "PID of the database server's main process on this machine (PostgreSQL's postmaster), to report its CPU with its children's")
	fs.BoolVar(&c.JSON, "json", false, "print the results as JSON")
	fs.DurationVar(&c.HashDuration, "hash-duration", 3*time.Second, "how long to measure the raw hash rate (0 skips it)")
	fs.DurationVar(&c.Wait, "wait", 0, "first wait up to this long for GET /readyz to answer 200")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.StringVar(&c.Mode, "mode", "login", "login, or forgot: forgot-password requests for the known and for unknown emails")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	if _, err := loopbackURL(c.URL); err != nil {
		return c, err
	}
	c.URL = strings.TrimRight(c.URL, "/")
	if c.Email == "" {
		return c, errors.New("-email is required")
	}
	if *passwordFile != "" {
		if c.Password != "" {
			return c, errors.New("give -password or -password-file, not both")
		}
		b, err := os.ReadFile(*passwordFile)
		if err != nil {
			return c, err
		}
		c.Password, _, _ = strings.Cut(string(b), "\n")
		c.Password = strings.TrimSuffix(c.Password, "\r")
	}
	if c.Mode != "login" && c.Mode != "forgot" {
		return c, errors.New("-mode must be login or forgot")
	}
	if c.Password == "" && c.Mode == "login" {
		return c, errors.New("-password or -password-file is required")
	}
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > maxClients {
			return c, fmt.Errorf("-clients: %q is not a number from 1 to %d", s, maxClients)
		}
		c.Clients = append(c.Clients, n)
	}
	if c.Duration <= 0 || c.Duration > maxDuration {
		return c, fmt.Errorf("-duration must be above 0 and at most %v", maxDuration)
	}
	if c.MaxLogins < 1 || c.MaxLogins > maxLogins {
		return c, fmt.Errorf("-max-logins must be from 1 to %d", maxLogins)
	}
	if c.HashDuration < 0 || c.HashDuration > time.Minute {
		return c, errors.New("-hash-duration must be from 0 to 1m")
	}
	if c.Wait < 0 || c.Wait > 5*time.Minute {
		return c, errors.New("-wait must be from 0 to 5m")
	}
	if c.Timeout <= 0 || c.Timeout > 5*time.Minute {
		return c, errors.New("-timeout must be above 0 and at most 5m")
	}
	if c.PID != 0 {
		if _, err := readProc(c.PID); err != nil {
			return c, fmt.Errorf("-pid %d: %w", c.PID, err)
		}
	}
	if c.DBPID != 0 {
		if _, err := treeCPU(c.DBPID); err != nil {
			return c, fmt.Errorf("-db-pid %d: %w", c.DBPID, err)
		}
	}
	return c, nil
}

// report is the whole result, printed as text or as JSON.
type report struct {
	URL string `json:"url"`
	// Hash is the raw hash rate measured before the first level; Hashes
	// holds it and the rate measured after each level.
	Hash   *hashResult   `json:"raw_hash,omitempty"`
	Hashes []hashResult  `json:"raw_hash_runs,omitempty"`
	Server *serverInfo   `json:"server,omitempty"`
	Levels []levelResult `json:"levels"`
}

type serverInfo struct {
	PID        int     `json:"pid"`
	IdleRSSMiB float64 `json:"idle_rss_mib"`
	ClockTicks int64   `json:"clock_ticks_per_second"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) {
		if !cfg.JSON {
			fmt.Fprintf(stdout, format+"\n", a...)
		} else {
			fmt.Fprintf(stderr, format+"\n", a...)
		}
	}

	if cfg.Wait > 0 {
		progress("waiting up to %v for %s/readyz", cfg.Wait, cfg.URL)
		if err := waitReady(ctx, cfg); err != nil {
			return err
		}
	}
	if err := preflight(ctx, cfg); cfg.Mode == "login" && err != nil {
		return err
	}

	rep := report{URL: cfg.URL}
	// The raw hash rate bounds the sign-in rate; on a shared machine it
	// drifts, so it is measured before the first level and after each one,
	// and each level is compared with the rates on either side of it.
	measure := func() *hashResult {
		if cfg.HashDuration <= 0 || ctx.Err() != nil {
			return nil
		}
		progress("measuring the raw argon2id hash rate for %v ...", cfg.HashDuration)
		h := measureHashRate(ctx, cfg.HashDuration)
		rep.Hashes = append(rep.Hashes, h)
		progress("raw argon2id (m=%d KiB, t=%d, p=%d): 1 goroutine %.1f hashes/s, %d goroutines %.1f hashes/s",
			argonMemory, argonTime, argonThreads, h.SingleRate, h.Workers, h.AllRate)
		return &h
	}
	rep.Hash = measure()
	if cfg.PID != 0 {
		p, err := readProc(cfg.PID)
		if err != nil {
			return err
		}
		rep.Server = &serverInfo{PID: cfg.PID, IdleRSSMiB: kib(p.RSSKiB), ClockTicks: clockTicks()}
		progress("server PID %d: idle RSS %.1f MiB", cfg.PID, rep.Server.IdleRSSMiB)
	}

	before := rep.Hash
	for _, n := range cfg.Clients {
		if ctx.Err() != nil {
			break
		}
		progress("level: %d clients for %v ...", n, cfg.Duration)
		res, err := runLevel(ctx, cfg, n)
		if err != nil {
			return err
		}
		after := measure()
		res.compare(before, after)
		before = after
		rep.Levels = append(rep.Levels, res)
	}

	if cfg.JSON {
		return writeJSON(stdout, rep)
	}
	writeText(stdout, rep)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return nil
}
