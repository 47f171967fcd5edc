package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

const resetTokenCols = `id, org_id, user_id, purpose, token_hash, code_hash, code_salt, code_attempts, created_at, expires_at`

func scanResetToken(row interface{ Scan(...any) error }) (account.ResetToken, error) {
	var r account.ResetToken
	err := row.Scan(&r.ID, &r.OrgID, &r.UserID, &r.Purpose, &r.TokenHash, &r.CodeHash, &r.CodeSalt, &r.CodeAttempts,
		timeCol{&r.CreatedAt}, timeCol{&r.ExpiresAt})
	return r, err
}

// nonNil keeps a nil digest out of a NOT NULL column.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateResetToken inserts r and sets r.ID; its times are kept to
// microseconds. A user of another organization (the (org_id, user_id)
// foreign key) is ErrNotFound.
func (t *tx) CreateResetToken(ctx context.Context, r *account.ResetToken) error {
	r.CreatedAt, r.ExpiresAt = normTime(r.CreatedAt), normTime(r.ExpiresAt)
	err := t.queryRow(ctx, `
		INSERT INTO reset_tokens (org_id, user_id, purpose, token_hash, code_hash, code_salt, code_attempts, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		int64(r.OrgID), int64(r.UserID), string(r.Purpose), r.TokenHash, nonNil(r.CodeHash), nonNil(r.CodeSalt),
		r.CodeAttempts, t.time(r.CreatedAt), t.time(r.ExpiresAt)).Scan(&r.ID)
	if err != nil {
		if isForeignKey(err) {
			return account.ErrNotFound
		}
		return fmt.Errorf("sqlstore: insert reset token: %w", err)
	}
	return nil
}

// InvalidateResetTokens deletes every token of the user, used or not: a
// deleted token can be neither found nor consumed, and there is nothing
// left in it worth keeping (the audit log records the events).
func (t *tx) InvalidateResetTokens(ctx context.Context, org account.OrgID, user account.UserID) error {
	if _, err := t.exec(ctx, `DELETE FROM reset_tokens WHERE org_id = ? AND user_id = ?`, int64(org), int64(user)); err != nil {
		return fmt.Errorf("sqlstore: invalidate reset tokens: %w", err)
	}
	return nil
}

// ResetTokenByHash returns the unconsumed token with this digest that
// expires after now, of any organization; else ErrNotFound. It does not use
// the token up: opening a link must change nothing.
func (t *tx) ResetTokenByHash(ctx context.Context, hash []byte, now time.Time) (account.ResetToken, error) {
	r, err := scanResetToken(t.queryRow(ctx, `SELECT `+resetTokenCols+` FROM reset_tokens
		WHERE token_hash = ? AND consumed_at IS NULL AND expires_at > ?`, hash, t.time(now)))
	if err != nil {
		return account.ResetToken{}, notFound("reset token by hash", err)
	}
	return r, nil
}

// LatestResetToken returns the user's newest unconsumed token that expires
// after now, if it has had fewer than maxAttempts wrong codes; else
// ErrNotFound. An older token never stands in for a newer one whose code was
// guessed at too often, so superseding holds for codes too. A maxAttempts
// below 1 finds nothing.
func (t *tx) LatestResetToken(ctx context.Context, org account.OrgID, user account.UserID, maxAttempts int, now time.Time) (account.ResetToken, error) {
	r, err := scanResetToken(t.queryRow(ctx, `SELECT `+resetTokenCols+` FROM reset_tokens
		WHERE org_id = ? AND user_id = ? AND consumed_at IS NULL AND expires_at > ?
		ORDER BY id DESC LIMIT 1`, int64(org), int64(user), t.time(now)))
	if err != nil {
		return account.ResetToken{}, notFound("latest reset token", err)
	}
	if r.CodeAttempts >= maxAttempts {
		return account.ResetToken{}, account.ErrNotFound
	}
	return r, nil
}

// RecordCodeFailure adds one to the token's wrong-code count in one
// statement, so that concurrent guesses in several processes all count, and
// returns the new count.
func (t *tx) RecordCodeFailure(ctx context.Context, id int64) (int, error) {
	var n int
	err := t.queryRow(ctx, `UPDATE reset_tokens SET code_attempts = code_attempts + 1 WHERE id = ? RETURNING code_attempts`,
		id).Scan(&n)
	if err != nil {
		return 0, notFound("record code failure", err)
	}
	return n, nil
}

// ConsumeResetToken marks the token used in one conditional UPDATE: of
// concurrent consumers, in however many processes, exactly one changes the
// row; the others, and any call for a used, expired or deleted token, get
// ErrNotFound.
func (t *tx) ConsumeResetToken(ctx context.Context, id int64, now time.Time) error {
	res, err := t.exec(ctx, `UPDATE reset_tokens SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL AND expires_at > ?`,
		t.time(now), id, t.time(now))
	if err != nil {
		return fmt.Errorf("sqlstore: consume reset token: %w", err)
	}
	return affected("consume reset token", res)
}
