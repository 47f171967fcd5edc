package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/latchkey/latchkey/internal/account"
)

// SMTPConfig is the SMTP server to send through, as ParseSMTPURL reads it
// from --smtp. It prints and logs with the password redacted.
type SMTPConfig struct {
	Host string
	Port int
	// ImplicitTLS is smtps://: TLS from the first byte. Otherwise the
	// connection switches to TLS with STARTTLS when the server offers it.
	ImplicitTLS bool
	Username    string
	Password    account.Secret
}

// The default ports: submission with STARTTLS, and submissions (implicit TLS).
const (
	DefaultPort    = 587
	DefaultTLSPort = 465
)

const urlForm = "want smtp://[user:pass@]host[:port] or smtps://[user:pass@]host[:port]"

// ParseSMTPURL reads an SMTP server URL: smtp://[user:pass@]host[:port]
// (port 587 by default; STARTTLS when offered) or smtps://… (port 465;
// implicit TLS). User and password are percent-decoded. No error text ever
// contains the password.
func ParseSMTPURL(s string) (SMTPConfig, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse's error quotes the whole URL, password and all.
		return SMTPConfig{}, fmt.Errorf("mail: SMTP URL is not a valid URL: %s", urlForm)
	}
	shown := redactedURL(u)
	var c SMTPConfig
	switch u.Scheme {
	case "smtp":
	case "smtps":
		c.ImplicitTLS = true
	default:
		return SMTPConfig{}, fmt.Errorf("mail: SMTP URL %q: unsupported scheme %q: %s", shown, u.Scheme, urlForm)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return SMTPConfig{}, fmt.Errorf("mail: SMTP URL %q: unexpected path, query or fragment: %s", shown, urlForm)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return SMTPConfig{}, fmt.Errorf("mail: SMTP URL %q has no host: %s", shown, urlForm)
	}
	c.Port = DefaultPort
	if c.ImplicitTLS {
		c.Port = DefaultTLSPort
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("mail: SMTP URL %q: bad port %q", shown, p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		pass, ok := u.User.Password()
		if c.Username == "" || !ok {
			return SMTPConfig{}, fmt.Errorf("mail: SMTP URL %q: credentials need both a user and a password", shown)
		}
		c.Password = account.Secret(pass)
	}
	return c, nil
}

func redactedURL(u *url.URL) string {
	v := *u
	if v.User != nil {
		if _, ok := v.User.Password(); ok {
			v.User = url.UserPassword(v.User.Username(), "REDACTED")
		}
	}
	return v.String()
}

// String returns the configuration as a URL with the password redacted.
func (c SMTPConfig) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		u.User = url.UserPassword(c.Username, "REDACTED")
	}
	return u.String()
}

// SenderOptions configures a Sender.
type SenderOptions struct {
	// From is the address messages come from (--mail-from), a bare
	// address; the display name is each message's FromName.
	From string
	// ConnectTimeout bounds connecting, and then each exchange with the
	// server (greeting and EHLO, STARTTLS, AUTH; the message); 10 s if zero.
	ConnectTimeout time.Duration
	// SendTimeout bounds one whole send, connection to QUIT; 30 s if zero.
	SendTimeout time.Duration
	// TLSConfig is for STARTTLS and smtps://. Nil means the system's roots,
	// the host name verified, TLS 1.2 or newer. Only tests pass their own,
	// trusting a test certificate.
	TLSConfig *tls.Config
}

// Sender sends one message per SMTP connection. It is safe for concurrent
// use.
type Sender struct {
	cfg        SMTPConfig
	from       string
	fromDomain string
	connect    time.Duration
	send       time.Duration
	tls        *tls.Config
}

// NewSender returns a Sender for cfg; it checks opts.From but does not
// connect.
func NewSender(cfg SMTPConfig, opts SenderOptions) (*Sender, error) {
	if cfg.Host == "" || cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mail: no SMTP host and port in %s", cfg)
	}
	a, err := netmail.ParseAddress(opts.From)
	if err != nil || a.Name != "" || hasLineBreak(opts.From) || a.Address != strings.TrimSpace(opts.From) {
		return nil, fmt.Errorf("mail: --mail-from %q is not a bare email address (like noreply@example.org)", opts.From)
	}
	s := &Sender{cfg: cfg, from: a.Address, connect: opts.ConnectTimeout, send: opts.SendTimeout}
	s.fromDomain = a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	if s.connect <= 0 {
		s.connect = 10 * time.Second
	}
	if s.send <= 0 {
		s.send = 30 * time.Second
	}
	if opts.TLSConfig != nil {
		s.tls = opts.TLSConfig.Clone()
	} else {
		s.tls = &tls.Config{}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = cfg.Host
	}
	if s.tls.MinVersion == 0 {
		s.tls.MinVersion = tls.VersionTLS12
	}
	return s, nil
}

// permanentError is a failure that no retry can mend.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent reports whether err is a failure that retrying cannot mend: a
// message the Sender refuses to send (a line break in a header field, an
// invalid address), or a permanent (5xx) rejection of the recipient. Every
// other failure — a connection refused or timed out, a 4xx reply, a 5xx
// reply to AUTH, MAIL or DATA, which a configuration change may fix — is
// worth retrying.
func Permanent(err error) bool {
	var pe *permanentError
	if errors.As(err, &pe) {
		return true
	}
	var se *gomail.SendError
	return errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && se.ErrorCode() >= 500
}

func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n") }

// message builds e's MIME message, refusing header fields that would
// break out of their line.
func (s *Sender) message(e account.Email) (*gomail.Msg, error) {
	switch {
	case hasLineBreak(e.To):
		return nil, &permanentError{fmt.Errorf("mail: entry %d: line break in the To address", e.ID)}
	case hasLineBreak(e.Subject):
		return nil, &permanentError{fmt.Errorf("mail: entry %d: line break in the subject", e.ID)}
	}
	to, err := netmail.ParseAddress(e.To)
	if err != nil || to.Name != "" {
		return nil, &permanentError{fmt.Errorf("mail: entry %d: invalid To address", e.ID)}
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.FromFormat(HeaderText(e.FromName), s.from); err != nil {
		return nil, &permanentError{fmt.Errorf("mail: entry %d: from: %w", e.ID, err)}
	}
	m.ToMailAddress(to)
	m.Subject(e.Subject)
	m.SetDateWithValue(time.Now())
	m.SetMessageIDWithValue(fmt.Sprintf("latchkey.%d.%s@%s", e.ID, randomHex(8), s.fromDomain))
	m.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	m.SetBodyString(gomail.TypeTextPlain, e.TextBody)
	if e.HTMLBody != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, e.HTMLBody)
	}
	return m, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Send delivers e (To, FromName, Subject, the bodies) over one SMTP
// connection: multipart/alternative text and HTML, From "FromName <From>",
// a fresh Message-ID. Credentials are sent only over TLS, or to a server
// on the loopback interface. It returns once the server has accepted the
// message, or with the error; Permanent tells whether to retry. A server
// that stalls fails the send after ConnectTimeout per exchange and
// SendTimeout in all; cancelling ctx ends it at once.
func (s *Sender) Send(ctx context.Context, e account.Email) error {
	m, err := s.message(e)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.send)
	defer cancel()

	// The dialer keeps the connection, so that the deadline or a
	// cancellation can cut it whatever go-mail is waiting for.
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: s.connect}
		c, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		if s.cfg.ImplicitTLS {
			tc := tls.Client(c, s.tls)
			if err := tc.HandshakeContext(dctx); err != nil {
				c.Close()
				return nil, err
			}
			return tc, nil
		}
		return c, nil
	}
	closeAll := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}
	stop := context.AfterFunc(ctx, closeAll)
	defer func() {
		stop()
		closeAll() // also after a failed handshake or EHLO, which go-mail leaves open
	}()

	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.connect),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(s.tls),
		gomail.WithoutNoop(),
		gomail.WithoutRset(), // one message per connection
	}
	if s.cfg.ImplicitTLS {
		opts = append(opts, gomail.WithSSL()) // the dialer does the handshake
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		// PLAIN and LOGIN refuse to run without TLS except to loopback;
		// anything else the server offers is discovered.
		opts = append(opts, gomail.WithUsername(s.cfg.Username), gomail.WithPassword(string(s.cfg.Password)),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return &permanentError{fmt.Errorf("mail: smtp client: %w", err)}
	}
	err = s.deliver(ctx, c, m)
	if err != nil && ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("mail: send to %s:%d timed out: %w", s.cfg.Host, s.cfg.Port, err)
		}
		return fmt.Errorf("mail: send to %s:%d cancelled: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return err
}

func (s *Sender) deliver(ctx context.Context, c *gomail.Client, m *gomail.Msg) error {
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("mail: connect to %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	err = c.SendWithSMTPClient(sc, m)
	if m.IsDelivered() {
		// The server took the message; a failed QUIT must not send it again.
		_ = c.CloseWithSMTPClient(sc)
		return nil
	}
	sc.Close()
	if err == nil {
		err = errors.New("message not delivered")
	}
	return fmt.Errorf("mail: send via %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
}
