package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/password"
)

const (
	resetPrefix       = "lkr_"
	maxCodeAttempts   = 5
	resetEmailsByHour = 5
)

var errInvalidToken = &Error{Code: CodeInvalidToken,
	Message: "This link or code is not valid: it was used, has expired or was replaced by a newer one. Ask for a new one."}

// newCode returns an 8-digit code and its salted digest.
func newCode() (code string, salt, digest []byte) {
	n, _ := rand.Int(rand.Reader, big.NewInt(100_000_000))
	code = fmt.Sprintf("%08d", n.Int64())
	salt = make([]byte, 16)
	rand.Read(salt)
	return code, salt, codeDigest(salt, code)
}

func codeDigest(salt []byte, code string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(code))
	return h.Sum(nil)
}

// link is an address under the configured base URL, never the request's Host.
func (s *Service) link(o Org, page string, q url.Values) string {
	u := strings.TrimSuffix(s.cfg.BaseURL, "/") + "/o/" + url.PathEscape(o.Slug) + "/" + page
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// queue renders a template and writes it to the outbox in tx.
func (s *Service) queue(ctx context.Context, tx Tx, o Org, uid *UserID, to, tmpl string, d MessageData) (Email, error) {
	if s.cfg.Renderer == nil {
		return Email{}, errors.New("account: no message renderer configured")
	}
	d.OrgName, d.OrgSlug = o.Name, o.Slug
	d.SignInURL = s.link(o, "login", nil)
	if o.Settings.SSO != nil {
		d.SSOProvider, d.SSOLoginURL = o.Settings.SSO.ProviderName, o.Settings.SSO.LoginURL
	}
	subject, text, html, err := s.cfg.Renderer.Render(tmpl, d)
	if err != nil {
		return Email{}, fmt.Errorf("account: render %s: %w", tmpl, err)
	}
	now := s.now()
	e := Email{OrgID: o.ID, UserID: uid, To: to, FromName: o.Name, Template: tmpl, Subject: subject,
		TextBody: text, HTMLBody: html, Status: EmailQueued, NextAttemptAt: now, CreatedAt: now}
	if err := tx.EnqueueEmail(ctx, &e); err != nil {
		return Email{}, err
	}
	return e, nil
}

// wake nudges the mail worker once the transaction has committed.
func (s *Service) wake() {
	if s.cfg.MailWake != nil {
		s.cfg.MailWake()
	}
}

// issueLink replaces the user's outstanding links with a new one and queues
// its email (reset or welcome) in tx.
func (s *Service) issueLink(ctx context.Context, tx Tx, o Org, u User, purpose ResetPurpose) (Email, error) {
	ob := tx
	if err := ob.InvalidateResetTokens(ctx, o.ID, u.ID); err != nil {
		return Email{}, err
	}
	now := s.now()
	token, digest := password.NewToken(resetPrefix)
	code, salt, codeHash := newCode()
	ttl := time.Duration(o.Settings.ResetLinkMinutes) * time.Minute
	tmpl := TemplateReset
	if purpose == PurposeWelcome {
		ttl, tmpl = time.Duration(o.Settings.WelcomeLinkHours)*time.Hour, TemplateWelcome
	}
	if ttl <= 0 {
		ttl = time.Hour
	}
	t := ResetToken{OrgID: o.ID, UserID: u.ID, Purpose: purpose, TokenHash: digest, CodeHash: codeHash, CodeSalt: salt,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := ob.CreateResetToken(ctx, &t); err != nil {
		return Email{}, err
	}
	return s.queue(ctx, tx, o, &u.ID, u.Email, tmpl, MessageData{UserName: u.Name, Email: u.Email,
		Link: s.link(o, "reset-password", url.Values{"token": {token}}), Code: code, ExpiresAt: t.ExpiresAt})
}

// ForgotInput is a self-service reset request.
type ForgotInput struct {
	Org    string
	Email  string
	Client Client
}

// RequestReset handles "Forgot your password?". The answer is the same
// whether or not the email has an account: nil, or self_service_disabled
// when the organization switched self-service off. A reset email goes only
// to the account's stored address, at most 5 an hour; a disabled user or
// one with a temporary password gets none; an SSO user gets a reminder of
// where they sign in instead of a link.
func (s *Service) RequestReset(ctx context.Context, in ForgotInput) error {
	const op = "account.RequestReset"
	var o Org
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		o, err = tx.OrgBySlug(ctx, in.Org)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return wrap(op, err)
	}
	if !o.Settings.SelfServiceReset {
		return wrap(op, &Error{Code: CodeSelfServiceOff, Message: "Password reset by email is switched off for this organization; ask your administrator."})
	}
	email := NormalizeEmail(in.Email)
	if len(email) > 254 {
		email = ""
	}
	queued := false
	err = s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		ev := &AuditEvent{OrgID: o.ID, Action: ActionResetRequested, IP: in.Client.IP, UserAgent: in.Client.UserAgent,
			Outcome: OutcomeFailure, Details: map[string]any{}}
		u, err := tx.UserByEmail(ctx, o.ID, email)
		if errors.Is(err, ErrNotFound) {
			ev.Details["reason"] = "unknown_email"
			return s.append(ctx, tx, ev)
		}
		if err != nil {
			return err
		}
		ev.TargetID = &u.ID
		reason := ""
		switch {
		case u.Status == StatusDisabled:
			reason = "disabled"
		case u.AuthSource != AuthSSO && (u.Status == StatusForcePasswordReset || u.TempPasswordHash != ""):
			reason = "temporary_password_pending"
		}
		if reason == "" {
			n := 0
			for _, t := range []string{TemplateReset, TemplateSSOReminder} {
				c, err := tx.CountEmails(ctx, o.ID, u.ID, t, now.Add(-time.Hour))
				if err != nil {
					return err
				}
				n += c
			}
			if n >= resetEmailsByHour {
				reason = "rate_limited"
			}
		}
		if reason != "" {
			ev.Details["reason"] = reason
			return s.append(ctx, tx, ev)
		}
		if u.AuthSource == AuthSSO {
			if _, err := s.queue(ctx, tx, o, &u.ID, u.Email, TemplateSSOReminder, MessageData{UserName: u.Name, Email: u.Email}); err != nil {
				return err
			}
			ev.Details["sent"] = TemplateSSOReminder
		} else {
			if _, err := s.issueLink(ctx, tx, o, u, PurposeReset); err != nil {
				return err
			}
			ev.Details["sent"] = TemplateReset
		}
		ev.Outcome = OutcomeSuccess
		queued = true
		return s.append(ctx, tx, ev)
	})
	if err != nil {
		return wrap(op, err)
	}
	if queued {
		s.wake()
	}
	return nil
}

// SendResetEmail sends the user a reset link at an administrator's request.
// Returns not_found, forbidden (needs *.read and *.update of the kind, and
// no takeover upward), sso_managed, user_disabled.
func (s *Service) SendResetEmail(ctx context.Context, a Actor, id UserID) (Email, error) {
	const op = "account.SendResetEmail"
	var e Email
	err := s.store.Tx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, a.OrgID, id)
		if err != nil {
			return notFound(err)
		}
		if err := a.canManage(u, verbUpdate); err != nil {
			return err
		}
		o, err := tx.OrgByID(ctx, a.OrgID)
		if err != nil {
			return err
		}
		if err := credentialTarget(o, u); err != nil {
			return err
		}
		if e, err = s.issueLink(ctx, tx, o, u, PurposeReset); err != nil {
			return err
		}
		return s.append(ctx, tx, a.event(ActionResetEmailSent, &u.ID, OutcomeSuccess, map[string]any{"email_id": int64(e.ID)}))
	})
	if err != nil {
		return Email{}, wrap(op, err)
	}
	s.wake()
	return e, nil
}

// sendWelcome queues a welcome email with a link to choose a first password.
func (s *Service) sendWelcome(ctx context.Context, tx Tx, a Actor, o Org, u User) error {
	e, err := s.issueLink(ctx, tx, o, u, PurposeWelcome)
	if err != nil {
		return err
	}
	return s.append(ctx, tx, a.event(ActionWelcomeEmailSent, &u.ID, OutcomeSuccess, map[string]any{"email_id": int64(e.ID)}))
}

// ResetInput completes a reset: a link's token, or organization, email and
// the 8-digit code from the same email.
type ResetInput struct {
	Token       Secret
	Org         string
	Email       string
	Code        Secret
	NewPassword Secret
	Client      Client
}

// ResetInfo is what the reset page shows before the form is submitted.
type ResetInfo struct {
	Org     Org
	User    User
	Purpose ResetPurpose
}

// ResetLinkInfo looks a link up without using it (mail scanners follow
// links). Returns invalid_token.
func (s *Service) ResetLinkInfo(ctx context.Context, token Secret) (ResetInfo, error) {
	var info ResetInfo
	err := s.store.View(ctx, func(tx Tx) error {
		t, err := s.findToken(ctx, tx, ResetInput{Token: token})
		if err != nil {
			return err
		}
		info.Purpose = t.Purpose
		if info.Org, err = tx.OrgByID(ctx, t.OrgID); err != nil {
			return err
		}
		info.User, err = tx.UserByID(ctx, t.OrgID, t.UserID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		err = errInvalidToken
	}
	return info, wrap("account.ResetLinkInfo", err)
}

// findToken finds the live token of a link or of an email and code. A wrong
// code counts toward its limit of 5.
func (s *Service) findToken(ctx context.Context, tx Tx, in ResetInput) (ResetToken, error) {
	now := s.now()
	ob := tx
	if in.Token != "" {
		tok := string(in.Token)
		if len(tok) != len(resetPrefix)+43 || !strings.HasPrefix(tok, resetPrefix) {
			return ResetToken{}, errInvalidToken
		}
		t, err := ob.ResetTokenByHash(ctx, password.Digest(tok), now)
		if errors.Is(err, ErrNotFound) {
			return ResetToken{}, errInvalidToken
		}
		return t, err
	}
	code := string(in.Code)
	if len(code) != 8 || strings.Trim(code, "0123456789") != "" {
		return ResetToken{}, errInvalidToken
	}
	o, err := tx.OrgBySlug(ctx, in.Org)
	if errors.Is(err, ErrNotFound) {
		return ResetToken{}, errInvalidToken
	}
	if err != nil {
		return ResetToken{}, err
	}
	u, err := tx.UserByEmail(ctx, o.ID, NormalizeEmail(in.Email))
	if errors.Is(err, ErrNotFound) {
		return ResetToken{}, errInvalidToken
	}
	if err != nil {
		return ResetToken{}, err
	}
	t, err := ob.LatestResetToken(ctx, o.ID, u.ID, maxCodeAttempts, now)
	if errors.Is(err, ErrNotFound) {
		return ResetToken{}, errInvalidToken
	}
	if err != nil {
		return ResetToken{}, err
	}
	if subtle.ConstantTimeCompare(codeDigest(t.CodeSalt, code), t.CodeHash) != 1 {
		if _, err := ob.RecordCodeFailure(ctx, t.ID); err != nil {
			return ResetToken{}, err
		}
		return ResetToken{}, errCodeMiss
	}
	return t, nil
}

// errCodeMiss is a wrong code: invalid_token to the caller, but its count
// must be committed.
var errCodeMiss = &Error{Code: CodeInvalidToken, Message: errInvalidToken.Message}

// CompleteReset sets a new password from a reset or welcome link or code.
// It ends every session of the user, clears a lockout, the invited status
// and any temporary password, and does not sign in. Returns invalid_token
// (unknown, used, expired, superseded; a code also after 5 wrong tries) or
// password_policy (the link stays usable), overloaded.
func (s *Service) CompleteReset(ctx context.Context, in ResetInput) error {
	const op = "account.CompleteReset"
	var (
		t ResetToken
		o Org
		u User
	)
	miss := false
	// A code once compared is counted even if the client hangs up meanwhile:
	// hanging up must not buy a guess that is never counted.
	cctx := context.WithoutCancel(ctx)
	err := s.store.Tx(cctx, func(tx Tx) error {
		var err error
		t, err = s.findToken(cctx, tx, in)
		if err == errCodeMiss {
			miss = true // commit the count of wrong codes
			return nil
		}
		if err != nil {
			return err
		}
		if o, err = tx.OrgByID(cctx, t.OrgID); err != nil {
			return err
		}
		u, err = tx.UserByID(cctx, t.OrgID, t.UserID)
		return err
	})
	if miss {
		return wrap(op, errInvalidToken)
	}
	if errors.Is(err, ErrNotFound) {
		err = errInvalidToken
	}
	if err != nil {
		return wrap(op, err)
	}
	if u.Status == StatusDisabled || u.AuthSource == AuthSSO {
		return wrap(op, errInvalidToken)
	}
	pw := string(in.NewPassword)
	if err := s.checkPassword(o, u, pw); err != nil {
		return wrap(op, err)
	}
	if err := s.checkHistory(ctx, o, u, pw); err != nil {
		return wrap(op, err)
	}
	hash, err := s.hasher.Hash(ctx, password.Normalize(pw))
	if err != nil {
		return wrap(op, hashErr(err))
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		if err := tx.ConsumeResetToken(ctx, t.ID, now); errors.Is(err, ErrNotFound) {
			return errInvalidToken
		} else if err != nil {
			return err
		}
		cur, err := tx.UserByID(ctx, o.ID, u.ID)
		if err != nil {
			return errInvalidToken
		}
		if err := s.setPassword(ctx, tx, o, &cur, hash, now); err != nil {
			return err
		}
		actor := Actor{UserID: cur.ID, OrgID: o.ID, Client: in.Client}
		if err := s.endSessions(ctx, tx, actor, cur.ID, "password_reset", ""); err != nil {
			return err
		}
		via := "link"
		if in.Token == "" {
			via = "code"
		}
		if err := s.append(ctx, tx, actor.event(ActionPasswordReset, &cur.ID, OutcomeSuccess,
			map[string]any{"via": via, "purpose": string(t.Purpose)})); err != nil {
			return err
		}
		return s.notifyPasswordChanged(ctx, tx, o, cur)
	})
	if err != nil {
		return wrap(op, err)
	}
	s.wake()
	return nil
}

// setPassword stores a new password hash and everything that follows from
// it: the status is active, the temporary password and every outstanding
// link are gone, a lockout is cleared.
func (s *Service) setPassword(ctx context.Context, tx Tx, o Org, u *User, hash string, now time.Time) error {
	if u.PasswordHash != "" && u.PasswordHash != hash {
		if err := tx.AddPasswordHistory(ctx, o.ID, u.ID, u.PasswordHash, now, maxHistory); err != nil {
			return err
		}
	}
	u.PasswordHash = hash
	u.PasswordChangedAt = &now
	u.TempPasswordHash, u.TempPasswordExpiresAt = "", nil
	u.RequirePasswordChange = false
	u.LockedUntil, u.FailedLogins = nil, 0
	if u.Status != StatusDisabled {
		u.Status = StatusActive
	}
	u.UpdatedAt = now
	if err := tx.UpdateUser(ctx, u); err != nil {
		return err
	}
	return tx.InvalidateResetTokens(ctx, o.ID, u.ID)
}

// notifyPasswordChanged tells the user their password changed; the notice
// has no link that changes anything.
func (s *Service) notifyPasswordChanged(ctx context.Context, tx Tx, o Org, u User) error {
	if s.cfg.Renderer == nil {
		return nil
	}
	_, err := s.queue(ctx, tx, o, &u.ID, u.Email, TemplatePasswordChanged, MessageData{UserName: u.Name, Email: u.Email})
	return err
}

// notifyEmailChanged tells the old and the new address of an email change.
func (s *Service) notifyEmailChanged(ctx context.Context, tx Tx, o Org, u User, old string) error {
	if s.cfg.Renderer == nil {
		return nil
	}
	for _, to := range []string{old, u.Email} {
		if _, err := s.queue(ctx, tx, o, &u.ID, to, TemplateEmailChanged,
			MessageData{UserName: u.Name, Email: to, OldEmail: old, NewEmail: u.Email}); err != nil {
			return err
		}
	}
	return nil
}

// ChangePassword changes the actor's own password. The current password is
// required and a wrong one counts toward the lockout; every other session
// of the user ends, this one stays. Returns invalid_credentials,
// password_policy, overloaded.
func (s *Service) ChangePassword(ctx context.Context, a Actor, current, next Secret) error {
	const op = "account.ChangePassword"
	var (
		o Org
		u User
	)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if o, err = tx.OrgByID(ctx, a.OrgID); err != nil {
			return err
		}
		u, err = tx.UserByID(ctx, a.OrgID, a.UserID)
		return err
	})
	if err != nil {
		return wrap(op, notFound(err))
	}
	if err := tooLong(o, string(current)); err != nil {
		return wrap(op, err)
	}
	if u.AuthSource == AuthSSO {
		return wrap(op, errSSOManaged(o))
	}
	wrong := &Error{Code: CodeInvalidCredentials, Message: "The current password is incorrect."}
	att, err := s.beginAttempt(ctx, o, u)
	if err != nil {
		return wrap(op, err)
	}
	in := LoginInput{Org: o.Slug, Email: u.Email, Client: a.Client}
	if att.Locked {
		if err := s.hasher.VerifyDummy(ctx, password.Normalize(string(current))); err != nil {
			return wrap(op, hashErr(err))
		}
		s.recordFailure(ctx, o, &u, in, "locked", false)
		return wrap(op, wrong)
	}
	ok, _, err := s.verify(ctx, u.PasswordHash, string(current))
	if err != nil || u.PasswordHash == "" {
		s.endAttempt(ctx, o, u, AttemptEnd{Outcome: AttemptAbandoned})
		if err != nil {
			return wrap(op, err)
		}
		return wrap(op, wrong)
	}
	if !ok {
		s.recordFailure(ctx, o, &u, in, "bad_current_password", true)
		return wrap(op, wrong)
	}
	s.endAttempt(ctx, o, u, s.succeeded(o, att.Failures))
	if err := s.checkPassword(o, u, string(next)); err != nil {
		return wrap(op, err)
	}
	if err := s.checkHistory(ctx, o, u, string(next)); err != nil {
		return wrap(op, err)
	}
	if o.Settings.PasswordPolicy.History == 0 {
		if same, _, _ := s.verify(ctx, u.PasswordHash, string(next)); same {
			return wrap(op, &Error{Code: CodePasswordPolicy, Message: "Choose a password you have not used here before.",
				Details: []Detail{{Rule: "not_reused", Message: "Must differ from the current password"}}})
		}
	}
	hash, err := s.hasher.Hash(ctx, password.Normalize(string(next)))
	if err != nil {
		return wrap(op, hashErr(err))
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		cur, err := tx.UserByID(ctx, a.OrgID, a.UserID)
		if err != nil {
			return err
		}
		if err := s.setPassword(ctx, tx, o, &cur, hash, now); err != nil {
			return err
		}
		n, err := tx.DeleteUserSessions(ctx, a.OrgID, a.UserID, a.SessionID)
		if err != nil {
			return err
		}
		if err := s.append(ctx, tx, a.event(ActionPasswordChanged, &a.UserID, OutcomeSuccess,
			map[string]any{"other_sessions_ended": n})); err != nil {
			return err
		}
		return s.notifyPasswordChanged(ctx, tx, o, cur)
	})
	if err != nil {
		return wrap(op, err)
	}
	s.wake()
	return nil
}

// EmailView is an outbox entry as an administrator sees it; the bodies are
// shown only in the development mailbox.
type EmailView struct {
	Email
	ShowBody bool
}

// visibleEmail reports whether the actor may see (v = read) or act on
// (v = update) an entry: by the recipient's kind; entries of deleted users
// are for org.manage holders.
func (s *Service) emailAllowed(ctx context.Context, tx Tx, a Actor, e Email, v verb) (bool, error) {
	if e.UserID == nil {
		return a.Has(PermOrgManage), nil
	}
	u, err := tx.UserByID(ctx, a.OrgID, *e.UserID)
	if errors.Is(err, ErrNotFound) {
		return a.Has(PermOrgManage), nil
	}
	if err != nil {
		return false, err
	}
	return a.CanSee(u.Kind) && a.Has(permFor(u.Kind, v)), nil
}

// EmailQuery selects outbox entries.
type EmailQuery struct {
	UserID *UserID
	Status string
	Limit  int
}

// Emails lists outbox entries whose recipients the actor may read, newest
// first. Returns forbidden when the actor may read no user, validation_failed.
func (s *Service) Emails(ctx context.Context, a Actor, q EmailQuery) ([]EmailView, error) {
	const op = "account.Emails"
	if len(a.visibleKinds()) == 0 && !a.Has(PermOrgManage) {
		return nil, wrap(op, errForbidden)
	}
	st := EmailStatus(q.Status)
	if st != "" && !slices.Contains([]EmailStatus{EmailQueued, EmailSent, EmailFailed}, st) {
		return nil, wrap(op, &Error{Code: CodeValidation, Message: "Some filters are not valid.",
			Details: []Detail{{Field: "status", Message: "Must be queued, sent or failed."}}})
	}
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var out []EmailView
	err := s.store.View(ctx, func(tx Tx) error {
		if q.UserID != nil {
			u, err := tx.UserByID(ctx, a.OrgID, *q.UserID)
			if err != nil {
				return notFound(err)
			}
			if err := a.canManage(u, verbRead); err != nil && ErrorCode(err) == CodeNotFound {
				return err
			}
		}
		var before EmailID
		for len(out) < limit {
			es, err := tx.ListEmails(ctx, a.OrgID, EmailFilter{UserID: q.UserID, Status: st, BeforeID: before, Limit: 200})
			if err != nil {
				return err
			}
			for _, e := range es {
				ok, err := s.emailAllowed(ctx, tx, a, e, verbRead)
				if err != nil {
					return err
				}
				if ok && len(out) < limit {
					out = append(out, EmailView{Email: e, ShowBody: s.cfg.DevMailbox && a.Has(PermOrgManage) && e.Status != EmailSent})
				}
				before = e.ID
			}
			if len(es) < 200 {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	if out == nil {
		out = []EmailView{}
	}
	return out, nil
}

// RecentEmails lists the last emails to a user the actor may see.
func (s *Service) RecentEmails(ctx context.Context, a Actor, id UserID) ([]EmailView, error) {
	return s.Emails(ctx, a, EmailQuery{UserID: &id, Limit: 10})
}

// ResendEmail sends an entry again: a reset or welcome email with a fresh
// link (the old one dies), anything else as it was while it is unsent.
// Returns not_found, forbidden (needs *.update of the recipient's kind),
// conflict for a notice already delivered.
func (s *Service) ResendEmail(ctx context.Context, a Actor, id EmailID) (Email, error) {
	const op = "account.ResendEmail"
	var out Email
	err := s.store.Tx(ctx, func(tx Tx) error {
		e, err := tx.EmailByID(ctx, a.OrgID, id)
		if err != nil {
			return notFound(err)
		}
		if ok, err := s.emailAllowed(ctx, tx, a, e, verbRead); err != nil {
			return err
		} else if !ok {
			return &Error{Code: CodeNotFound, Message: "Not found."}
		}
		if ok, err := s.emailAllowed(ctx, tx, a, e, verbUpdate); err != nil {
			return err
		} else if !ok {
			return errForbidden
		}
		o, err := tx.OrgByID(ctx, a.OrgID)
		if err != nil {
			return err
		}
		switch {
		case (e.Template == TemplateReset || e.Template == TemplateWelcome) && e.UserID != nil:
			u, err := tx.UserByID(ctx, a.OrgID, *e.UserID)
			if err != nil {
				return notFound(err)
			}
			if err := a.canManage(u, verbUpdate); err != nil {
				return err
			}
			if err := credentialTarget(o, u); err != nil {
				return err
			}
			purpose := PurposeReset
			if e.Template == TemplateWelcome {
				purpose = PurposeWelcome
			}
			if out, err = s.issueLink(ctx, tx, o, u, purpose); err != nil {
				return err
			}
		case e.Status != EmailSent:
			if err := tx.RequeueEmail(ctx, a.OrgID, e.ID, s.now()); err != nil {
				return err
			}
			if out, err = tx.EmailByID(ctx, a.OrgID, e.ID); err != nil {
				return err
			}
		default:
			return &Error{Code: CodeConflict, Message: "This notice was delivered; it cannot be sent again."}
		}
		return s.append(ctx, tx, a.event(ActionEmailResent, e.UserID, OutcomeSuccess,
			map[string]any{"email_id": int64(e.ID), "new_email_id": int64(out.ID), "template": e.Template}))
	})
	if err != nil {
		return Email{}, wrap(op, err)
	}
	s.wake()
	return out, nil
}

// maxHistory is how many replaced hashes are kept: the most the history
// setting allows.
const maxHistory = 24

// checkHistory refuses a new password that is the current one or one of the
// last replaced ones, as many as the organization's history setting says
// (the current password counts as one). Each comparison is a hash, run
// through the limiter, so the setting's bound of 24 bounds the cost.
func (s *Service) checkHistory(ctx context.Context, o Org, u User, pw string) error {
	n := o.Settings.PasswordPolicy.History
	if n <= 0 {
		return nil
	}
	var old []string
	if u.PasswordHash != "" {
		old = append(old, u.PasswordHash)
	}
	if n > len(old) {
		var hist []string
		err := s.store.View(ctx, func(tx Tx) error {
			var err error
			hist, err = tx.PasswordHistory(ctx, o.ID, u.ID, n-len(old))
			return err
		})
		if err != nil {
			return err
		}
		old = append(old, hist...)
	}
	// The comparisons run side by side; the limiter bounds how many at once.
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		found bool
		first error
	)
	for _, h := range old {
		wg.Add(1)
		go func() {
			defer wg.Done()
			same, _, err := s.verify(ctx, h, pw)
			mu.Lock()
			defer mu.Unlock()
			found = found || same
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	if found {
		r := password.HistoryRule(n)
		return &Error{Code: CodePasswordPolicy, Message: "The password does not meet the password rules.",
			Details: []Detail{{Rule: r.Rule, Message: r.Message}}}
	}
	return first
}
