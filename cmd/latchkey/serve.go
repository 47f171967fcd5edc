package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/sqlstore"
	"github.com/latchkey/latchkey/internal/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const defaultDB = "sqlite:latchkey.db"

// common are the flags every command that opens the database has.
type common struct {
	db           string
	logLevel     string
	logFormat    string
	argonMemory  uint
	argonTime    uint
	argonThreads uint
	hashSlots    int
	hashQueue    int
	hashMaxWait  time.Duration
	sessionTTL   time.Duration
	sessionIdle  time.Duration
	challengeTTL time.Duration
	breachedFile string
	// baseURL is where links in emails point: --base-url, or for serve
	// without it the address it listens on.
	baseURL       string
	hasherLimiter *password.Limiter
}

func (c *common) register(fs *flagSet) {
	d := password.DefaultParams()
	fs.StringVar(&c.db, "db", defaultDB, "database: sqlite:PATH or postgres://USER@HOST:PORT/DB")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "json", "log format: json or text")
	fs.UintVar(&c.argonMemory, "argon2-memory", uint(d.Memory), "argon2id memory per hash, KiB")
	fs.UintVar(&c.argonTime, "argon2-time", uint(d.Time), "argon2id iterations")
	fs.UintVar(&c.argonThreads, "argon2-threads", uint(d.Threads), "argon2id parallelism")
	fs.IntVar(&c.hashSlots, "hash-concurrency", runtime.GOMAXPROCS(0), "password hashes computed at once")
	fs.IntVar(&c.hashQueue, "hash-queue", 256, "sign-ins that may wait for a hashing slot; beyond that 503")
	fs.DurationVar(&c.hashMaxWait, "hash-max-wait", 5*time.Second, "longest wait for a hashing slot before 503")
	fs.DurationVar(&c.sessionTTL, "session-ttl", 14*24*time.Hour, "absolute lifetime of a session")
	fs.DurationVar(&c.sessionIdle, "session-idle", 24*time.Hour, "a session unused this long ends")
	fs.DurationVar(&c.challengeTTL, "challenge-ttl", 15*time.Minute, "how long the new-password step after a temporary password lasts")
	fs.StringVar(&c.breachedFile, "breached-passwords", "", "sorted SHA-1 list of breached passwords (Pwned Passwords format), refused as new passwords")
	fs.StringVar(&c.baseURL, "base-url", "", "public URL of Latchkey, used in links and emails (default http://ADDR)")
}

func (c *common) check() error {
	if !strings.HasPrefix(c.db, "sqlite:") && !strings.HasPrefix(c.db, "postgres://") && !strings.HasPrefix(c.db, "postgresql://") {
		return fmt.Errorf("invalid --db %q: want sqlite:PATH or postgres://...", redactURL(c.db))
	}
	if c.db == "sqlite:" {
		return errors.New("invalid --db \"sqlite:\": give a file path, such as sqlite:latchkey.db")
	}
	if strings.HasPrefix(c.db, "postgres") {
		if _, err := url.Parse(c.db); err != nil {
			return fmt.Errorf("invalid --db: not a URL: %s", redactURL(c.db))
		}
	}
	switch c.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", c.logLevel)
	}
	if c.logFormat != "json" && c.logFormat != "text" {
		return fmt.Errorf("invalid --log-format %q: want json or text", c.logFormat)
	}
	if c.argonMemory < 8 || c.argonMemory > 4<<20 || c.argonTime < 1 || c.argonTime > 100 || c.argonThreads < 1 || c.argonThreads > 255 {
		return errors.New("invalid argon2 parameters: memory 8..4194304 KiB, time 1..100, threads 1..255")
	}
	if c.hashSlots < 1 || c.hashQueue < 0 || c.hashMaxWait <= 0 {
		return errors.New("invalid hashing limits: --hash-concurrency >= 1, --hash-queue >= 0, --hash-max-wait > 0")
	}
	if c.sessionTTL <= 0 || c.sessionIdle <= 0 || c.challengeTTL <= 0 {
		return errors.New("invalid session lifetimes: --session-ttl, --session-idle and --challenge-ttl must be positive")
	}
	return nil
}

func (c *common) logger(w io.Writer) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(c.logLevel))
	opts := &slog.HandlerOptions{Level: lv}
	if c.logFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// open connects to and migrates the database and builds the service;
// tune, when set, adjusts the service's configuration first.
func (c *common) open(ctx context.Context, log *slog.Logger, hashObserver func(time.Duration), tune ...func(*account.Config)) (*sqlstore.DB, *account.Service, error) {
	renderer, err := mail.NewRenderer()
	if err != nil {
		return nil, nil, err
	}
	var breached *password.Breached
	if c.breachedFile != "" {
		if breached, err = password.OpenBreached(c.breachedFile); err != nil {
			return nil, nil, fmt.Errorf("--breached-passwords: %w", err)
		}
	}
	db, err := sqlstore.Open(ctx, c.db, log)
	if err != nil {
		return nil, nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	c.hasherLimiter = password.NewLimiter(c.hashSlots, c.hashQueue, c.hashMaxWait)
	h := password.NewHasher(password.Params{Memory: uint32(c.argonMemory), Time: uint32(c.argonTime),
		Threads: uint8(c.argonThreads), SaltLen: 16, KeyLen: 32}, c.hasherLimiter)
	h.OnHash = hashObserver
	cfg := account.Config{SessionTTL: c.sessionTTL, SessionIdle: c.sessionIdle, ChallengeTTL: c.challengeTTL,
		Breached: breached, Renderer: renderer, BaseURL: c.baseURL, DevMailbox: true}
	for _, f := range tune {
		f(&cfg)
	}
	svc := account.NewService(db, h, account.SystemClock{}, log, cfg)
	return db, svc, nil
}

// redactURL hides a password in a database URL.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

type serveConfig struct {
	common
	addr            string
	smtp            string
	mailFrom        string
	ipLimits        string
	trustedProxies  string
	shutdownTimeout time.Duration
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c serveConfig
	fs := newFlagSet("serve", "", getenv)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on, HOST:PORT")
	c.common.register(fs)
	fs.StringVar(&c.smtp, "smtp", "", "mail server: smtp://[user:pass@]host:port or smtps://... (unset: mail stays in the outbox)")
	fs.StringVar(&c.mailFrom, "mail-from", "latchkey@localhost", "sender address of emails")
	fs.StringVar(&c.ipLimits, "ip-limits", web.DefaultIPLimits, "per-client-IP limits, login=RATE:BURST,forgot=RATE:BURST,reset=RATE:BURST, or off")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs of proxies whose X-Forwarded-For is believed")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let requests finish on SIGTERM")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if err := c.check(); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	host, port, err := net.SplitHostPort(c.addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return fmt.Errorf("serve: invalid --addr %q: want HOST:PORT, such as 127.0.0.1:8080", c.addr)
	}
	limits, err := web.ParseIPLimits(c.ipLimits)
	if err != nil {
		return fmt.Errorf("serve: invalid --ip-limits: %w", err)
	}
	var proxies []netip.Prefix
	for _, p := range strings.Split(c.trustedProxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pr, err := netip.ParsePrefix(p)
		if err != nil {
			if a, err2 := netip.ParseAddr(p); err2 == nil {
				pr = netip.PrefixFrom(a, a.BitLen())
			} else {
				return fmt.Errorf("serve: invalid --trusted-proxies entry %q: want a CIDR such as 10.0.0.0/8", p)
			}
		}
		proxies = append(proxies, pr)
	}
	var sender *mail.Sender
	if c.smtp != "" {
		sc, err := mail.ParseSMTPURL(c.smtp)
		if err != nil {
			return fmt.Errorf("serve: invalid --smtp: %w", err)
		}
		if !account.ValidEmail(account.NormalizeEmail(c.mailFrom)) {
			return fmt.Errorf("serve: invalid --mail-from %q: want an address such as latchkey@example.org", c.mailFrom)
		}
		if sender, err = mail.NewSender(sc, mail.SenderOptions{From: c.mailFrom}); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	var base *url.URL
	if c.baseURL != "" {
		base, err = url.Parse(c.baseURL)
		if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
			return fmt.Errorf("serve: invalid --base-url %q: want http(s)://host[:port]", c.baseURL)
		}
		base.Path = strings.TrimSuffix(base.Path, "/")
	}

	log := c.logger(stderr)
	if os.Getenv("GOMEMLIMIT") == "" {
		// Each hash allocates its argon2id memory (19 MiB by default) and
		// drops it at once. A soft limit of a base plus twice the memory of
		// the hashes that may run at once lets the collector run only as the
		// heap nears it, so the peak stays close to the hashes actually
		// running without collecting after every one.
		debug.SetMemoryLimit(40<<20 + 2*int64(c.hashSlots)*int64(c.argonMemory)<<10)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	hashDur := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "latchkey_password_hash_duration_seconds",
		Help:    "Time to compute one password hash (argon2id, or a legacy hash being verified).",
		Buckets: []float64{.005, .01, .02, .04, .08, .16, .32, .64, 1.28},
	})
	reg.MustRegister(hashDur)

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", c.addr, err)
	}
	defer ln.Close()
	if base == nil {
		a := ln.Addr().(*net.TCPAddr)
		h := host
		if h == "" || h == "0.0.0.0" || h == "::" {
			h = "127.0.0.1"
		}
		base = &url.URL{Scheme: "http", Host: net.JoinHostPort(h, strconv.Itoa(a.Port))}
	}
	c.baseURL = base.String()
	var worker *mail.Worker
	db, svc, err := c.open(ctx, log, func(d time.Duration) { hashDur.Observe(d.Seconds()) }, func(cfg *account.Config) {
		cfg.DevMailbox = sender == nil
		cfg.MailWake = func() {
			if worker != nil {
				worker.Wake()
			}
		}
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer db.Close()
	go svc.RunImports(ctx)
	if sender != nil {
		worker = mail.NewWorker(db, sender, log, mail.WorkerOptions{})
		go func() {
			if err := worker.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("mail worker stopped", "err", err)
			}
		}()
	}
	lim := c.hasherLimiter
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latchkey_password_hash_queue_depth",
			Help: "Password hashes waiting for a slot."}, func() float64 { return float64(lim.Waiting()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "latchkey_password_hash_running",
			Help: "Password hashes being computed."}, func() float64 { return float64(lim.Running()) }),
	)
	srv, err := web.NewServer(web.Options{Accounts: svc, Log: log, BaseURL: base, Registry: reg, Gatherer: reg,
		IPLimits: limits, TrustedProxies: proxies, SessionTTL: c.sessionTTL})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	fmt.Fprintf(stdout, "Latchkey listening on http://%s (database %s)\n", ln.Addr(), redactURL(c.db))
	if c.smtp == "" {
		log.Warn("no --smtp set: email stays in the outbox, readable by org.manage holders on the Emails page")
		fmt.Fprintln(stdout, "No --smtp given: emails stay in the outbox; administrators read them on the Emails page.")
	} else {
		log.Info("sending email", "smtp", redactURL(c.smtp), "from", c.mailFrom)
	}
	res, created, err := svc.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("serve: create the first administrator: %w", err)
	}
	if created {
		printInit(stdout, res)
	}
	fmt.Fprintf(stdout, "Sign in at %s/o/%s/login\n", base, account.DefaultOrgSlug)

	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "db", redactURL(c.db), "base_url", base.String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", c.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// printInit tells the operator what init created, the temporary password once.
func printInit(w io.Writer, res account.InitResult) {
	fmt.Fprintf(w, "Created organization %q with administrator %s.\n", res.Org.Slug, res.User.Email)
	if res.TemporaryPassword != "" {
		fmt.Fprintf(w, "temporary password: %s\n", string(res.TemporaryPassword))
		fmt.Fprintf(w, "It is shown only now and expires at %s; the first sign-in asks for a new password.\n",
			res.ExpiresAt.UTC().Format(time.RFC3339))
	}
}

func runInit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		c                         common
		org, orgName, email, file string
	)
	fs := newFlagSet("init", "", getenv)
	fs.StringVar(&org, "org", "", "slug of the new organization, such as metro-fire (required)")
	fs.StringVar(&orgName, "org-name", "", "display name of the organization (default: the slug)")
	fs.StringVar(&email, "admin-email", "", "email of the first administrator (required)")
	fs.StringVar(&file, "admin-password-file", "", "file holding the administrator's password (default: generate a temporary one)")
	c.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if org == "" || email == "" {
		return errors.New("init: --org and --admin-email are required")
	}
	if err := c.check(); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	var pw string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("init: read --admin-password-file: %w", err)
		}
		pw = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if pw == "" {
			return errors.New("init: --admin-password-file is empty")
		}
	}
	db, svc, err := c.open(ctx, c.logger(stderr), nil)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	defer db.Close()
	res, err := svc.Init(ctx, account.InitInput{Slug: org, Name: orgName, AdminEmail: email, AdminPassword: account.Secret(pw)})
	if err != nil {
		return fmt.Errorf("init: %s", describe(err))
	}
	printInit(stdout, res)
	return nil
}

// describe is an error for the operator: the safe message with its details.
func describe(err error) string {
	var e *account.Error
	if !errors.As(err, &e) || e.Code == account.CodeInternal {
		return err.Error()
	}
	s := e.Message
	for _, d := range e.Details {
		if d.Field != "" {
			s += " " + d.Field + ": " + d.Message + "."
		} else {
			s += " " + d.Message + "."
		}
	}
	return s
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var db string
	fs := newFlagSet("migrate", "", getenv)
	fs.StringVar(&db, "db", defaultDB, "database: sqlite:PATH or postgres://USER@HOST:PORT/DB")
	if err := fs.parse(args); err != nil {
		return err
	}
	c := common{db: db, logLevel: "info", logFormat: "json", argonMemory: 8, argonTime: 1, argonThreads: 1,
		hashSlots: 1, sessionTTL: 1, sessionIdle: 1, challengeTTL: 1, hashMaxWait: 1}
	if err := c.check(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	s, err := sqlstore.Open(ctx, db, c.logger(stderr))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	v, err := s.Version(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "Database %s is at schema version %d.\n", redactURL(db), v)
	return nil
}

func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var db string
	fs := newFlagSet("backup", " FILE", getenv)
	fs.StringVar(&db, "db", defaultDB, "database: sqlite:PATH (for PostgreSQL use pg_dump)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("backup: give the file to write, as in: latchkey backup latchkey-backup.db")
	}
	c := common{db: db, logLevel: "info", logFormat: "json", argonMemory: 8, argonTime: 1, argonThreads: 1,
		hashSlots: 1, sessionTTL: 1, sessionIdle: 1, challengeTTL: 1, hashMaxWait: 1}
	if err := c.check(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	s, err := sqlstore.Open(ctx, db, c.logger(stderr))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer s.Close()
	if err := s.Backup(ctx, fs.Arg(0)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "Wrote a copy of %s to %s.\n", redactURL(db), fs.Arg(0))
	return nil
}
