package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// AddPasswordHistory keeps a replaced password hash and drops all but the
// newest keep of the user's.
func (t *tx) AddPasswordHistory(ctx context.Context, org account.OrgID, user account.UserID, hash string, at time.Time, keep int) error {
	if _, err := t.exec(ctx, `INSERT INTO password_history (org_id, user_id, hash, created_at) VALUES (?, ?, ?, ?)`,
		int64(org), int64(user), hash, t.time(at)); err != nil {
		return fmt.Errorf("sqlstore: add password history: %w", err)
	}
	_, err := t.exec(ctx, `DELETE FROM password_history WHERE org_id = ? AND user_id = ? AND id NOT IN (
			SELECT id FROM password_history WHERE org_id = ? AND user_id = ? ORDER BY id DESC LIMIT ?)`,
		int64(org), int64(user), int64(org), int64(user), max(keep, 0))
	if err != nil {
		return fmt.Errorf("sqlstore: trim password history: %w", err)
	}
	return nil
}

// PasswordHistory returns the user's newest n replaced hashes, newest first.
func (t *tx) PasswordHistory(ctx context.Context, org account.OrgID, user account.UserID, n int) ([]string, error) {
	rows, err := t.query(ctx, `SELECT hash FROM password_history WHERE org_id = ? AND user_id = ? ORDER BY id DESC LIMIT ?`,
		int64(org), int64(user), max(n, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: password history: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("sqlstore: password history: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
