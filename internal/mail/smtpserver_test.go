package mail_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	netmail "net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message as the test SMTP server got it.
type received struct {
	From     string
	To       []string
	Data     []byte
	AuthUser string
	TLS      bool
	Header   netmail.Header
}

// smtpServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that
// collects what it is sent. Its hooks, when set, answer each command of
// the n-th message (1, 2, …) with an error or make it wait.
type smtpServer struct {
	t    testing.TB
	Addr string
	srv  *smtp.Server
	ln   net.Listener
	// User and Pass, when set, make AUTH PLAIN required.
	User, Pass string
	Rcpt       func(n int) error
	Data       func(n int) error
	Hang       chan struct{} // when set, DATA waits for it to close

	mu       sync.Mutex
	msgs     []received
	attempts int // DATA or RCPT commands seen
	arrived  chan struct{}
}

type serverOpts struct {
	user, pass string
	tls        *tls.Config // STARTTLS offered with this config
	implicit   bool        // the listener is TLS from the first byte
	insecure   bool        // AUTH allowed without TLS
	addr       string      // listen here (to restart a stopped server)
}

func newSMTPServer(t testing.TB, o serverOpts) *smtpServer {
	t.Helper()
	s := &smtpServer{t: t, User: o.user, Pass: o.pass, arrived: make(chan struct{}, 100000)}
	addr := o.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if o.implicit {
		ln = tls.NewListener(ln, o.tls)
	}
	s.Addr, s.ln = ln.Addr().String(), ln
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{s: s, conn: c, tls: isTLS}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = o.insecure
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	if !o.implicit {
		s.srv.TLSConfig = o.tls
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	return s
}

// Close stops the server; it is the SMTP outage.
func (s *smtpServer) Close() {
	if s.Hang != nil {
		select {
		case <-s.Hang:
		default:
			close(s.Hang)
		}
	}
	s.srv.Close()
	s.ln.Close() // Serve may not have registered it yet
}

// Messages returns what arrived so far.
func (s *smtpServer) Messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

// WaitFor waits until n messages have arrived, failing after a while.
func (s *smtpServer) WaitFor(n int) {
	s.t.Helper()
	timeout := time.After(20 * time.Second)
	for len(s.Messages()) < n {
		select {
		case <-s.arrived:
		case <-timeout:
			s.t.Fatalf("waited for %d messages, %d arrived", n, len(s.Messages()))
		}
	}
}

type session struct {
	s    *smtpServer
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
	n    int
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != ss.s.User || pass != ss.s.Pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.User != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	ss.s.attempts++
	ss.n = ss.s.attempts
	ss.s.mu.Unlock()
	if ss.s.Rcpt != nil {
		if err := ss.s.Rcpt(ss.n); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.s.Hang != nil {
		<-ss.s.Hang
		return errors.New("server stopped")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.s.Data != nil {
		if err := ss.s.Data(ss.n); err != nil {
			return err
		}
	}
	_, isTLS := ss.conn.TLSConnectionState()
	msg, err := netmail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unparseable message: " + err.Error()}
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, received{From: ss.from, To: ss.to, Data: b, AuthUser: ss.user, TLS: isTLS || ss.tls,
		Header: msg.Header})
	ss.s.mu.Unlock()
	ss.s.arrived <- struct{}{}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// testCert returns a self-signed certificate for 127.0.0.1 and a pool that
// trusts it: the tests verify TLS rather than skip verification.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "latchkey test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}
