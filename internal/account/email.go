package account

import (
	"context"
	"time"
)

// EmailID identifies an outbox entry.
type EmailID int64

// EmailStatus is where an outbox entry stands.
type EmailStatus string

// The statuses of an outbox entry.
const (
	EmailQueued EmailStatus = "queued"
	EmailSent   EmailStatus = "sent"
	EmailFailed EmailStatus = "failed"
)

// The message templates.
const (
	TemplateReset           = "reset"            // a reset link and code
	TemplateWelcome         = "welcome"          // a link to choose a first password
	TemplateSSOReminder     = "sso_reminder"     // where an SSO user signs in, instead of a link
	TemplatePasswordChanged = "password_changed" // a notice, no link that changes anything
	TemplateEmailChanged    = "email_changed"    // a notice to the old and new address
)

// Email is an entry of the outbox: written in the transaction of the change
// that causes it, sent by the mail worker. The bodies are kept only until it
// is sent; afterwards the entry keeps its metadata.
type Email struct {
	ID            EmailID
	OrgID         OrgID
	UserID        *UserID
	To            string
	FromName      string
	Template      string
	Subject       string
	TextBody      string
	HTMLBody      string
	Status        EmailStatus
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	CreatedAt     time.Time
	SentAt        *time.Time
}

// EmailFilter selects outbox entries; empty fields match everything.
type EmailFilter struct {
	UserID   *UserID
	Status   EmailStatus
	BeforeID EmailID // keyset: only entries with a smaller ID
	Limit    int
}

// ResetPurpose says what a reset token is for.
type ResetPurpose string

// The purposes of a reset token.
const (
	PurposeReset   ResetPurpose = "reset"
	PurposeWelcome ResetPurpose = "welcome"
)

// ResetToken is an emailed link (32 random bytes, stored as SHA-256) and its
// 8-digit code (stored salted and hashed). Single use, expiring, superseded
// by a newer one for the same user.
type ResetToken struct {
	ID           int64
	OrgID        OrgID
	UserID       UserID
	Purpose      ResetPurpose
	TokenHash    []byte
	CodeHash     []byte
	CodeSalt     []byte
	CodeAttempts int
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// MessageData is what a template may show.
type MessageData struct {
	OrgName     string
	OrgSlug     string
	UserName    string
	Email       string
	Link        string // reset or welcome link; "" for notices
	Code        string // 8-digit code beside the link
	ExpiresAt   time.Time
	SSOProvider string
	SSOLoginURL string
	SignInURL   string
	OldEmail    string
	NewEmail    string
}

// Renderer turns a template and its data into a message; mail.Renderer is
// the implementation, over embedded text and HTML templates.
type Renderer interface {
	Render(template string, d MessageData) (subject, text, html string, err error)
}

// OutboxTx is the part of Tx that writes and reads the outbox and reset
// tokens.
type OutboxTx interface {
	// EnqueueEmail inserts e (status queued, due at e.NextAttemptAt) and sets e.ID.
	EnqueueEmail(ctx context.Context, e *Email) error
	// EmailByID returns one entry of the organization.
	EmailByID(ctx context.Context, org OrgID, id EmailID) (Email, error)
	// ListEmails lists the organization's entries, newest first.
	ListEmails(ctx context.Context, org OrgID, f EmailFilter) ([]Email, error)
	// RequeueEmail makes a failed or queued entry due now with its attempts reset.
	RequeueEmail(ctx context.Context, org OrgID, id EmailID, now time.Time) error
	// CountEmails counts the user's entries of a template created since then.
	CountEmails(ctx context.Context, org OrgID, user UserID, template string, since time.Time) (int, error)

	// CreateResetToken inserts t and sets t.ID.
	CreateResetToken(ctx context.Context, t *ResetToken) error
	// InvalidateResetTokens kills every outstanding token of the user: a newer
	// link, or any credential or identity change, supersedes them.
	InvalidateResetTokens(ctx context.Context, org OrgID, user UserID) error
	// ResetTokenByHash returns the unconsumed, unexpired token with this
	// digest, of any organization (the token is the credential); else ErrNotFound.
	ResetTokenByHash(ctx context.Context, hash []byte, now time.Time) (ResetToken, error)
	// LatestResetToken returns the user's newest unconsumed, unexpired token
	// with fewer than maxAttempts wrong codes; else ErrNotFound.
	LatestResetToken(ctx context.Context, org OrgID, user UserID, maxAttempts int, now time.Time) (ResetToken, error)
	// RecordCodeFailure adds one to the token's wrong-code count atomically
	// and returns it.
	RecordCodeFailure(ctx context.Context, id int64) (int, error)
	// ConsumeResetToken uses the token up in one conditional statement, so it
	// works once even under concurrency; otherwise ErrNotFound.
	ConsumeResetToken(ctx context.Context, id int64, now time.Time) error
}
