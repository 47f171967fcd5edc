package account

import (
	"context"
	"errors"
	"time"

	"github.com/latchkey/latchkey/internal/password"
)

// Token prefixes make Latchkey's secrets recognisable, for example to secret scanners.
const (
	sessionPrefix   = "lk_"
	challengePrefix = "lkc_"
)

// LoginInput is a sign-in attempt.
type LoginInput struct {
	Org      string
	Email    string
	Password Secret
	Client   Client
}

// NewSession is a session just created: its token is shown to the client once.
type NewSession struct {
	Token     Secret
	ExpiresAt time.Time
	User      User
	Session   Session
}

// PendingChallenge asks the client for another step before a session is given.
type PendingChallenge struct {
	Kind      ChallengeKind
	Token     Secret
	ExpiresAt time.Time
	Rules     []password.Rule
	User      User
}

// LoginResult is either a session or a challenge.
type LoginResult struct {
	Session   *NewSession
	Challenge *PendingChallenge
}

// Login signs a user in with email and password. It returns
// invalid_credentials for any unknown organization or email, wrong password,
// locked, disabled or SSO account, after the same work in each case;
// temporary_password_expired only to whoever presents the expired temporary
// password; password_policy for a password over the maximum length, before
// hashing; overloaded when hashing is saturated. A user who must choose a new
// password gets a challenge instead of a session.
func (s *Service) Login(ctx context.Context, in LoginInput) (LoginResult, error) {
	const op = "account.Login"
	pw := string(in.Password)
	var (
		o     Org
		u     User
		found bool
	)
	// Each of these reads stands alone, so they need no transaction: on
	// PostgreSQL that saves two round trips on every sign-in.
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if o, err = tx.OrgBySlug(ctx, in.Org); err != nil {
			return err
		}
		u, err = tx.UserByEmail(ctx, o.ID, NormalizeEmail(in.Email))
		if err == nil {
			found = true
		}
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return LoginResult{}, wrap(op, err)
	}
	if o.ID == 0 {
		o.Settings = DefaultSettings()
	}
	if err := tooLong(o, pw); err != nil {
		return LoginResult{}, wrap(op, err)
	}
	now := s.now()
	if !found {
		if err := s.hasher.VerifyDummy(ctx, password.Normalize(pw)); err != nil {
			return LoginResult{}, wrap(op, hashErr(err))
		}
		if o.ID != 0 {
			s.recordFailure(ctx, o, nil, in, "unknown_email", false)
		}
		return LoginResult{}, wrap(op, errInvalidCredentials)
	}

	// Decide which credential to check. A standing temporary password retires
	// the old one: only the temporary password signs in.
	usingTemp := u.TempPasswordHash != ""
	stored := u.PasswordHash
	if usingTemp {
		stored = u.TempPasswordHash
	}
	refusal := ""
	switch {
	case u.Status == StatusDisabled:
		refusal = "disabled"
	case u.AuthSource == AuthSSO:
		refusal = "sso_managed"
	case stored == "":
		refusal = "no_password"
	}
	// Every attempt at a usable account takes a slot before its password is
	// evaluated: however many arrive at once, in however many processes, no
	// more wrong passwords are evaluated than the lockout allows.
	admitted, earlier := false, 0
	if refusal == "" {
		att, err := s.beginAttempt(ctx, o, u)
		if err != nil {
			return LoginResult{}, wrap(op, err)
		}
		if att.Locked {
			refusal = "locked"
		} else {
			admitted, earlier = true, att.Failures
			defer func() {
				if admitted { // not ended below: the hash could not run
					s.endAttempt(ctx, o, u, AttemptEnd{Outcome: AttemptAbandoned})
				}
			}()
		}
	}
	if refusal != "" {
		if err := s.hasher.VerifyDummy(ctx, password.Normalize(pw)); err != nil {
			return LoginResult{}, wrap(op, hashErr(err))
		}
		s.recordFailure(ctx, o, &u, in, refusal, false)
		return LoginResult{}, wrap(op, errInvalidCredentials)
	}
	if password.IsTemporaryHash(stored) {
		// Checking a temporary password costs no hash; spend one anyway, so
		// that timing never tells such an account from any other.
		if err := s.hasher.VerifyDummy(ctx, password.Normalize(pw)); err != nil {
			return LoginResult{}, wrap(op, hashErr(err))
		}
	}
	ok, rehash, err := s.verify(ctx, stored, pw)
	if err != nil {
		return LoginResult{}, wrap(op, err)
	}
	// The password has been evaluated: what comes of it is recorded whether
	// or not the client still waits, so that hanging up as the hash ends
	// never keeps a wrong guess from counting or a sign-in from the audit.
	ctx = context.WithoutCancel(ctx)
	if !ok {
		admitted = false
		s.recordFailure(ctx, o, &u, in, "bad_password", true)
		return LoginResult{}, wrap(op, errInvalidCredentials)
	}
	if usingTemp && u.TempPasswordExpiresAt != nil && !u.TempPasswordExpiresAt.After(now) {
		admitted = false
		s.recordFailure(ctx, o, &u, in, "temporary_password_expired", true)
		return LoginResult{}, wrap(op, &Error{Code: CodeTempExpired,
			Message: "This temporary password has expired; ask your administrator for a new one."})
	}
	// A legacy or weaker hash is replaced, hashed outside any transaction.
	rehashed := false
	if rehash && !usingTemp {
		if newHash, err := s.hasher.Hash(ctx, password.Normalize(pw)); err == nil {
			// The sign-in succeeds even if this fails; the next one tries again.
			if err := s.store.Tx(ctx, func(tx Tx) error { return s.rehash(ctx, tx, o, u, newHash) }); err != nil {
				s.log.Warn("replacing a password hash", "op", op, "err", err)
			} else {
				rehashed = true
			}
		}
	}
	if usingTemp || u.Status == StatusForcePasswordReset || u.RequirePasswordChange {
		ch, err := s.startChallenge(ctx, o, u, in.Client, rehashed, earlier)
		if err == nil {
			admitted = false
			s.slotWaiters.wake(u.ID)
		}
		return LoginResult{Challenge: ch}, wrap(op, err)
	}
	// The session, the audit event and the end of the attempt are one
	// transaction. The slot this attempt gives back goes, in the same
	// transaction, to the longest-waiting sign-in of this account in this
	// process, if any.
	token, digest := password.NewToken(sessionPrefix)
	sess := Session{OrgID: o.ID, UserID: u.ID, TokenHash: digest, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.SessionTTL), IP: in.Client.IP, UserAgent: truncate(in.Client.UserAgent, 512)}
	details := map[string]any{"method": "password"}
	if rehashed {
		details["rehashed"] = true
	}
	if earlier > 0 {
		// The failures counted when this sign-in began, which it clears;
		// those that came while it ran stand.
		details["cleared_failures"] = earlier
	}
	ev := AuditEvent{OrgID: o.ID, At: now, Action: ActionLogin, ActorID: &u.ID, TargetID: &u.ID,
		IP: in.Client.IP, UserAgent: in.Client.UserAgent, Outcome: OutcomeSuccess, Details: details}
	next := s.slotWaiters.pop(u.ID)
	handed, err := s.store.FinishSignIn(ctx, SignInWrite{Session: &sess, Event: &ev,
		End: s.succeeded(o, earlier), At: now, HandOver: next != nil})
	var slot *Attempt
	if err == nil && handed.Admitted {
		slot = &handed
	}
	// Without a slot the waiter tries for one itself; a slot nobody is left
	// to take is given back.
	if left := s.slotWaiters.give(u.ID, next, slot); left != nil {
		s.endAttempt(ctx, o, u, AttemptEnd{Outcome: AttemptAbandoned})
	}
	if err != nil {
		return LoginResult{}, wrap(op, err)
	}
	admitted = false
	u.FailedLogins, u.LockedUntil, u.LastLoginAt, u.UpdatedAt = 0, nil, &now, now
	return LoginResult{Session: &NewSession{Token: Secret(token), ExpiresAt: sess.ExpiresAt, User: u, Session: sess}}, nil
}

// verify checks a password in its NFKC form and, failing that, as typed.
func (s *Service) verify(ctx context.Context, stored, pw string) (ok, rehash bool, err error) {
	norm := password.Normalize(pw)
	if password.IsTemporaryHash(stored) {
		return password.VerifyTemporary(stored, norm) || password.VerifyTemporary(stored, pw), false, nil
	}
	ok, rehash, err = s.hasher.Verify(ctx, stored, norm)
	if err != nil && !errors.Is(err, password.ErrMalformedHash) {
		return false, false, hashErr(err)
	}
	if err != nil {
		// A stored hash that cannot be parsed never matches.
		s.log.Warn("stored password hash is malformed", "err", err)
		return false, false, nil
	}
	if !ok && norm != pw {
		// Hashes made elsewhere, or before normalisation, hold the password as
		// typed; a match is rehashed in the normalised form.
		ok, _, err = s.hasher.Verify(ctx, stored, pw)
		if err != nil {
			return false, false, hashErr(err)
		}
		rehash = ok
	}
	return ok, rehash, nil
}

// recordFailure audits a failed sign-in with its reason and counts it
// against the account (ending its attempt slot when it held one), and locks
// the account when this failure reaches the organization's limit. A failure
// to record is logged: the caller still gets the generic answer.
func (s *Service) recordFailure(ctx context.Context, o Org, u *User, in LoginInput, reason string, admitted bool) {
	ctx = context.WithoutCancel(ctx) // a client that hangs up is still counted
	err := s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		ev := &AuditEvent{OrgID: o.ID, Action: ActionLoginFailed, IP: in.Client.IP, UserAgent: in.Client.UserAgent,
			Outcome: OutcomeFailure, Details: map[string]any{"reason": reason}}
		if u == nil {
			return s.append(ctx, tx, ev)
		}
		ev.TargetID = &u.ID
		var (
			n   int
			err error
		)
		if admitted {
			n, err = tx.EndLoginAttempt(ctx, o.ID, u.ID, AttemptEnd{Outcome: AttemptFailed}, now)
		} else {
			n, err = tx.RecordLoginFailure(ctx, o.ID, u.ID, now)
		}
		if err != nil {
			return err
		}
		ev.Details["failed_logins"] = n
		if err := s.append(ctx, tx, ev); err != nil {
			return err
		}
		max := o.Settings.Lockout.MaxFailures
		if max <= 0 || n < max || !admitted {
			return nil
		}
		until := now.Add(time.Duration(o.Settings.Lockout.LockMinutes) * time.Minute)
		locked, err := tx.LockUser(ctx, o.ID, u.ID, until, now)
		if err != nil || !locked {
			return err
		}
		return s.append(ctx, tx, &AuditEvent{OrgID: o.ID, Action: ActionLocked, TargetID: &u.ID,
			IP: in.Client.IP, UserAgent: in.Client.UserAgent, Outcome: OutcomeSuccess,
			Details: map[string]any{"failed_logins": n, "locked_until": until.Format(time.RFC3339)}})
	})
	if u != nil {
		s.slotWaiters.wake(u.ID)
	}
	if err != nil {
		s.log.Error("recording a failed sign-in", "op", "account.Login", "err", err)
	}
}

// endAttempt gives back a slot whose attempt could not be evaluated.
func (s *Service) endAttempt(ctx context.Context, o Org, u User, outcome AttemptEnd) {
	ctx = context.WithoutCancel(ctx)
	err := s.store.Autocommit(ctx, func(tx Tx) error {
		_, err := tx.EndLoginAttempt(ctx, o.ID, u.ID, outcome, s.now())
		return err
	})
	s.slotWaiters.wake(u.ID)
	if err != nil {
		s.log.Error("ending a sign-in attempt", "op", "account.Login", "err", err)
	}
}

// createSession stores a new session for the user and returns its token.
func (s *Service) createSession(ctx context.Context, tx Tx, o Org, uid UserID, c Client, now time.Time) (*NewSession, error) {
	token, digest := password.NewToken(sessionPrefix)
	sess := Session{OrgID: o.ID, UserID: uid, TokenHash: digest, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.SessionTTL), IP: c.IP, UserAgent: truncate(c.UserAgent, 512)}
	if err := tx.CreateSession(ctx, &sess); err != nil {
		return nil, err
	}
	if err := tx.RecordLogin(ctx, o.ID, uid, now); err != nil {
		return nil, err
	}
	u, err := tx.UserByID(ctx, o.ID, uid)
	if err != nil {
		return nil, err
	}
	return &NewSession{Token: Secret(token), ExpiresAt: sess.ExpiresAt, User: u, Session: sess}, nil
}

// startChallenge hands out a new-password challenge instead of a session.
func (s *Service) startChallenge(ctx context.Context, o Org, u User, c Client, rehashed bool, earlier int) (*PendingChallenge, error) {
	now := s.now()
	token, digest := password.NewToken(challengePrefix)
	ch := Challenge{OrgID: o.ID, UserID: u.ID, Kind: ChallengeNewPassword, TokenHash: digest,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.ChallengeTTL)}
	details := map[string]any{"method": "password", "challenge": string(ChallengeNewPassword)}
	if rehashed {
		details["rehashed"] = true
	}
	err := s.store.Tx(ctx, func(tx Tx) error {
		if err := tx.CreateChallenge(ctx, &ch); err != nil {
			return err
		}
		if err := s.append(ctx, tx, &AuditEvent{OrgID: o.ID, Action: ActionLogin, ActorID: &u.ID, TargetID: &u.ID,
			IP: c.IP, UserAgent: c.UserAgent, Outcome: OutcomeSuccess, Details: details}); err != nil {
			return err
		}
		// The user's row last, as in FinishSignIn.
		_, err := tx.EndLoginAttempt(ctx, o.ID, u.ID, s.succeeded(o, earlier), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &PendingChallenge{Kind: ChallengeNewPassword, Token: Secret(token), ExpiresAt: ch.ExpiresAt,
		Rules: s.rules(o), User: u}, nil
}

// NewPasswordInput completes a new-password challenge.
type NewPasswordInput struct {
	ChallengeToken Secret
	NewPassword    Secret
	Client         Client
}

var errInvalidChallenge = &Error{Code: CodeInvalidChallenge,
	Message: "This step has expired or was already completed; sign in again."}

// ChallengeInfo returns the organization and user a challenge token belongs
// to, without using it up, so that a page can show the rules. Returns
// invalid_challenge.
func (s *Service) ChallengeInfo(ctx context.Context, token Secret) (Org, User, error) {
	var (
		o Org
		u User
	)
	err := s.store.View(ctx, func(tx Tx) error {
		ch, err := tx.ChallengeByTokenHash(ctx, password.Digest(string(token)), s.now())
		if err != nil {
			return err
		}
		if o, err = tx.OrgByID(ctx, ch.OrgID); err != nil {
			return err
		}
		u, err = tx.UserByID(ctx, ch.OrgID, ch.UserID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Org{}, User{}, wrap("account.ChallengeInfo", errInvalidChallenge)
	}
	return o, u, wrap("account.ChallengeInfo", err)
}

// CompleteNewPassword sets the new password a challenge asked for and signs
// the user in. The password must meet the organization's rules and differ
// from the temporary password. Returns invalid_challenge, password_policy or
// overloaded; the challenge stays usable after a refused password.
func (s *Service) CompleteNewPassword(ctx context.Context, in NewPasswordInput) (*NewSession, error) {
	const op = "account.CompleteNewPassword"
	pw := string(in.NewPassword)
	o, u, err := s.ChallengeInfo(ctx, in.ChallengeToken)
	if err != nil {
		return nil, wrap(op, err)
	}
	if err := s.checkPassword(o, u, pw); err != nil {
		return nil, wrap(op, err)
	}
	norm := password.Normalize(pw)
	olds := []string{u.TempPasswordHash}
	if err := s.checkHistory(ctx, o, u, pw); err != nil {
		return nil, wrap(op, err)
	}
	for _, old := range olds {
		if old == "" {
			continue
		}
		same, _, err := s.verify(ctx, old, pw)
		if err != nil {
			return nil, wrap(op, err)
		}
		if same {
			return nil, wrap(op, &Error{Code: CodePasswordPolicy, Message: "Choose a password you have not used here before.",
				Details: []Detail{{Rule: "not_reused", Message: "Must not be the temporary password"}}})
		}
	}
	hash, err := s.hasher.Hash(ctx, norm)
	if err != nil {
		return nil, wrap(op, hashErr(err))
	}
	var ns *NewSession
	err = s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		ch, err := tx.ConsumeChallenge(ctx, password.Digest(string(in.ChallengeToken)), now)
		if errors.Is(err, ErrNotFound) {
			return errInvalidChallenge
		}
		if err != nil {
			return err
		}
		cur, err := tx.UserByID(ctx, ch.OrgID, ch.UserID)
		if err != nil {
			return err
		}
		if err := s.setPassword(ctx, tx, o, &cur, hash, now); err != nil {
			return err
		}
		if err := tx.DeleteUserChallenges(ctx, o.ID, cur.ID); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, o.ID, cur.ID, 0); err != nil {
			return err
		}
		if err := s.append(ctx, tx, &AuditEvent{OrgID: o.ID, Action: ActionPasswordChanged, ActorID: &cur.ID,
			TargetID: &cur.ID, IP: in.Client.IP, UserAgent: in.Client.UserAgent, Outcome: OutcomeSuccess,
			Details: map[string]any{"via": string(ChallengeNewPassword)}}); err != nil {
			return err
		}
		ns, err = s.createSession(ctx, tx, o, cur.ID, in.Client, now)
		return err
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return ns, nil
}

var errUnauthorized = &Error{Code: CodeUnauthorized, Message: "Sign in first."}

// Authenticate returns the Actor of a session token. An unknown, expired or
// idle token, or one of a disabled user, is unauthorized.
func (s *Service) Authenticate(ctx context.Context, token Secret, c Client) (Actor, error) {
	const op = "account.Authenticate"
	if token == "" || len(token) > 256 {
		return Actor{}, wrap(op, errUnauthorized)
	}
	now := s.now()
	var (
		sess Session
		u    User
		o    Org
	)
	// Every authenticated request passes here: three single-statement
	// reads, with no transaction around them.
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if sess, err = tx.SessionByTokenHash(ctx, password.Digest(string(token))); err != nil {
			return err
		}
		if u, err = tx.UserByID(ctx, sess.OrgID, sess.UserID); err != nil {
			return err
		}
		o, err = tx.OrgByID(ctx, sess.OrgID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Actor{}, wrap(op, errUnauthorized)
	}
	if err != nil {
		return Actor{}, wrap(op, err)
	}
	if !sess.ExpiresAt.After(now) || !sess.LastSeenAt.Add(s.cfg.SessionIdle).After(now) || u.Status == StatusDisabled {
		return Actor{}, wrap(op, errUnauthorized)
	}
	// Record use at most once a minute, so that reading pages is not a write each time.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if err := s.store.Autocommit(ctx, func(tx Tx) error { return tx.TouchSession(ctx, sess.ID, now) }); err != nil {
			s.log.Warn("touching a session", "err", err)
		}
	}
	return Actor{UserID: u.ID, OrgID: o.ID, OrgSlug: o.Slug, Email: u.Email, Permissions: u.Permissions,
		SessionID: sess.ID, Client: c}, nil
}

// Logout ends the actor's session.
func (s *Service) Logout(ctx context.Context, a Actor) error {
	err := s.store.Tx(ctx, func(tx Tx) error {
		if err := tx.DeleteSession(ctx, a.OrgID, a.UserID, a.SessionID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return s.append(ctx, tx, a.event(ActionLogout, &a.UserID, OutcomeSuccess, nil))
	})
	return wrap("account.Logout", err)
}

// Me returns the actor's own account.
func (s *Service) Me(ctx context.Context, a Actor) (User, error) {
	var u User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		u, err = tx.UserByID(ctx, a.OrgID, a.UserID)
		return err
	})
	return u, wrap("account.Me", notFound(err))
}

// MySessions lists the actor's own sessions.
func (s *Service) MySessions(ctx context.Context, a Actor) ([]Session, error) {
	var ss []Session
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		ss, err = tx.UserSessions(ctx, a.OrgID, a.UserID)
		return err
	})
	return ss, wrap("account.MySessions", err)
}

// append stamps and stores an audit event.
func (s *Service) append(ctx context.Context, tx Tx, e *AuditEvent) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	return tx.AppendAudit(ctx, e)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// EndMySession signs out one of the actor's own sessions. Another user's
// session is not_found.
func (s *Service) EndMySession(ctx context.Context, a Actor, id SessionID) error {
	err := s.store.Tx(ctx, func(tx Tx) error {
		if err := tx.DeleteSession(ctx, a.OrgID, a.UserID, id); err != nil {
			return notFound(err)
		}
		return s.append(ctx, tx, a.event(ActionLogout, &a.UserID, OutcomeSuccess, map[string]any{"session_id": int64(id)}))
	})
	return wrap("account.EndMySession", err)
}

// rehash replaces a legacy or weaker hash with one at the current
// parameters; the old one is kept in the history, so that an import re-run
// with the same hash knows it changes nothing.
func (s *Service) rehash(ctx context.Context, tx Tx, o Org, u User, newHash string) error {
	if err := tx.ReplacePasswordHash(ctx, o.ID, u.ID, u.PasswordHash, newHash); err != nil {
		return err
	}
	return tx.AddPasswordHistory(ctx, o.ID, u.ID, u.PasswordHash, s.now(), maxHistory)
}

// succeeded is the end of an attempt that found the right password: it
// clears the failures from before it began.
func (s *Service) succeeded(o Org, earlier int) AttemptEnd {
	return AttemptEnd{Outcome: AttemptSucceeded, Earlier: earlier, MaxFailures: o.Settings.Lockout.MaxFailures}
}
