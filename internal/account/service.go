package account

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/latchkey/latchkey/internal/password"
)

// Hasher hashes and verifies passwords within a bounded number of concurrent
// hashes; password.Hasher is the implementation.
type Hasher interface {
	// Hash returns an argon2id PHC string, or password.ErrOverloaded.
	Hash(ctx context.Context, plain string) (string, error)
	// Verify checks plain against a stored hash; rehash reports that the
	// hash should be replaced by one at the current parameters.
	Verify(ctx context.Context, encoded, plain string) (ok, rehash bool, err error)
	// VerifyDummy costs what a real verification costs, for unknown users.
	VerifyDummy(ctx context.Context, plain string) error
}

// Config holds the Service's tunables.
type Config struct {
	SessionTTL   time.Duration // absolute lifetime of a session
	SessionIdle  time.Duration // a session unused this long ends
	ChallengeTTL time.Duration // how long a new-password challenge lasts
	// Breached, when set, refuses passwords found in a breach list.
	Breached *password.Breached
	// BaseURL is the public address links in emails start with; never the
	// request's Host header.
	BaseURL string
	// Renderer turns message templates into emails; nil queues none.
	Renderer Renderer
	// MailWake, when set, nudges the mail worker after an email is queued.
	MailWake func()
	// DevMailbox says that no SMTP server is configured: org.manage holders
	// may then read queued messages in full on the Emails page.
	DevMailbox bool
}

// DefaultConfig returns the defaults of API.md.
func DefaultConfig() Config {
	return Config{SessionTTL: 14 * 24 * time.Hour, SessionIdle: 24 * time.Hour, ChallengeTTL: 15 * time.Minute}
}

// Service implements Latchkey's use cases. Each exported method is one use
// case: it authorizes, validates and applies the rule in one transaction.
type Service struct {
	store  Store
	hasher Hasher
	clock  Clock
	log    *slog.Logger
	cfg    Config

	slotWaiters waiters
}

// NewService returns a Service over its dependencies.
func NewService(store Store, hasher Hasher, clock Clock, log *slog.Logger, cfg Config) *Service {
	if clock == nil {
		clock = SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, hasher: hasher, clock: clock, log: log, cfg: cfg}
}

// Client is where a request came from, for the audit log.
type Client struct {
	IP        string
	UserAgent string
}

// Actor is a signed-in user acting through a session.
type Actor struct {
	UserID      UserID
	OrgID       OrgID
	OrgSlug     string
	Email       string
	Permissions PermissionSet
	SessionID   SessionID
	Client      Client
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// hashErr turns a hashing failure into an *Error: overload becomes
// CodeOverloaded (503 with Retry-After), anything else internal.
func hashErr(err error) error {
	if errors.Is(err, password.ErrOverloaded) {
		return &Error{Code: CodeOverloaded, Message: "The service is busy; try again in a moment.", Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeOverloaded, Message: "The request was cancelled.", Err: err}
	}
	return err
}

// policy returns the password checker for an organization's settings.
func (s *Service) policy(o Org) password.Policy {
	pp := o.Settings.PasswordPolicy
	return password.Policy{MinLength: pp.MinLength, MaxLength: pp.MaxLength, RequireClasses: pp.RequireClasses,
		BlockCommon: pp.BlockCommon, BlockPersonal: pp.BlockPersonal, Breached: s.cfg.Breached}
}

// checkPassword applies the organization's policy to a new password of u
// and returns a password_policy *Error naming every failed rule. It is the
// one check of every path that sets a password.
func (s *Service) checkPassword(o Org, u User, pw string) error {
	vs, err := s.policy(o).CheckWithError(pw, password.Context{Email: u.Email, Name: u.Name, OrgName: o.Name, OrgSlug: o.Slug})
	if err != nil {
		s.log.Error("breached-password lookup failed; refusing the password", "err", err)
	}
	if len(vs) == 0 {
		return nil
	}
	e := &Error{Code: CodePasswordPolicy, Message: "The password does not meet the password rules."}
	for _, v := range vs {
		e.Details = append(e.Details, Detail{Rule: v.Rule, Message: v.Message})
	}
	return e
}

// rules lists every rule a new password must follow, history included.
func (s *Service) rules(o Org) []password.Rule {
	rs := s.policy(o).Rules()
	if n := o.Settings.PasswordPolicy.History; n > 0 {
		rs = append(rs, password.HistoryRule(n))
	}
	return rs
}

// tooLong refuses a password over the policy's maximum, before any hashing.
func tooLong(o Org, pw string) error {
	for _, v := range (password.Policy{MaxLength: o.Settings.PasswordPolicy.MaxLength}).Check(pw) {
		if v.Rule == password.RuleMaxLength {
			return &Error{Code: CodePasswordPolicy, Message: "The password is too long.",
				Details: []Detail{{Rule: v.Rule, Message: v.Message}}}
		}
	}
	return nil
}

// PasswordRules lists an organization's password rules; it is public, so
// that sign-in pages can show them.
func (s *Service) PasswordRules(ctx context.Context, orgSlug string) ([]password.Rule, error) {
	var o Org
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		o, err = tx.OrgBySlug(ctx, orgSlug)
		return err
	})
	if err != nil {
		return nil, wrap("account.PasswordRules", notFound(err))
	}
	return s.rules(o), nil
}

// OrgBySlug returns the organization with this slug, for pages that show its name.
func (s *Service) OrgBySlug(ctx context.Context, slug string) (Org, error) {
	var o Org
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		o, err = tx.OrgBySlug(ctx, slug)
		return err
	})
	return o, wrap("account.OrgBySlug", notFound(err))
}

// Ping reports whether the store is reachable.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// notFound makes a store's not-found caller-safe.
func notFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return &Error{Code: CodeNotFound, Message: "Not found.", Err: err}
	}
	return err
}

// event returns an audit event of the actor's organization.
func (a Actor) event(action Action, target *UserID, outcome Outcome, details map[string]any) *AuditEvent {
	e := &AuditEvent{OrgID: a.OrgID, Action: action, TargetID: target,
		IP: a.Client.IP, UserAgent: a.Client.UserAgent, Outcome: outcome, Details: details}
	if a.UserID != 0 {
		id := a.UserID
		e.ActorID = &id
	} else {
		if e.Details == nil {
			e.Details = map[string]any{}
		}
		e.Details["via"] = "cli"
	}
	return e
}

func ptr[T any](v T) *T { return &v }
