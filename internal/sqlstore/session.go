package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

const sessionCols = `id, org_id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, user_agent`

func scanSession(row interface{ Scan(...any) error }) (account.Session, error) {
	var s account.Session
	err := row.Scan(&s.ID, &s.OrgID, &s.UserID, &s.TokenHash, timeCol{&s.CreatedAt}, timeCol{&s.LastSeenAt},
		timeCol{&s.ExpiresAt}, &s.IP, &s.UserAgent)
	return s, err
}

// CreateSession inserts s and sets s.ID; its times are kept to microseconds.
func (t *tx) CreateSession(ctx context.Context, s *account.Session) error {
	q, args := t.insertSession(s)
	if err := t.queryRow(ctx, q, args...).Scan(&s.ID); err != nil {
		return fmt.Errorf("sqlstore: insert session: %w", err)
	}
	return nil
}

// insertSession is the statement of CreateSession, RETURNING id; it
// normalizes s's times.
func (t *tx) insertSession(s *account.Session) (string, []any) {
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = normTime(s.CreatedAt), normTime(s.LastSeenAt), normTime(s.ExpiresAt)
	return `INSERT INTO sessions (org_id, user_id, token_hash, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		[]any{int64(s.OrgID), int64(s.UserID), s.TokenHash, t.time(s.CreatedAt), t.time(s.LastSeenAt), t.time(s.ExpiresAt),
			s.IP, s.UserAgent}
}

// SessionByTokenHash finds a session by its token's digest, expired or not.
func (t *tx) SessionByTokenHash(ctx context.Context, hash []byte) (account.Session, error) {
	s, err := scanSession(t.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE token_hash = ?`, hash))
	if err != nil {
		return account.Session{}, notFound("session by token", err)
	}
	return s, nil
}

// TouchSession sets the session's last_seen_at.
func (t *tx) TouchSession(ctx context.Context, id account.SessionID, at time.Time) error {
	res, err := t.exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, t.time(at), int64(id))
	if err != nil {
		return fmt.Errorf("sqlstore: touch session: %w", err)
	}
	return affected("touch session", res)
}

// DeleteSession ends one session of the user; ErrNotFound if there is none.
func (t *tx) DeleteSession(ctx context.Context, org account.OrgID, user account.UserID, id account.SessionID) error {
	res, err := t.exec(ctx, `DELETE FROM sessions WHERE org_id = ? AND user_id = ? AND id = ?`, int64(org), int64(user), int64(id))
	if err != nil {
		return fmt.Errorf("sqlstore: delete session: %w", err)
	}
	return affected("delete session", res)
}

// DeleteUserSessions ends every session of the user but keep.
func (t *tx) DeleteUserSessions(ctx context.Context, org account.OrgID, user account.UserID, keep account.SessionID) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM sessions WHERE org_id = ? AND user_id = ? AND id <> ?`, int64(org), int64(user), int64(keep))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete user sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete user sessions: %w", err)
	}
	return int(n), nil
}

// UserSessions lists the user's sessions, newest first.
func (t *tx) UserSessions(ctx context.Context, org account.OrgID, user account.UserID) ([]account.Session, error) {
	rows, err := t.query(ctx, `SELECT `+sessionCols+` FROM sessions WHERE org_id = ? AND user_id = ? ORDER BY created_at DESC, id DESC`,
		int64(org), int64(user))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list sessions: %w", err)
	}
	defer rows.Close()
	out := []account.Session{}
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list sessions: %w", err)
	}
	return out, nil
}

// CreateChallenge inserts c and sets c.ID; its times are kept to microseconds.
func (t *tx) CreateChallenge(ctx context.Context, c *account.Challenge) error {
	c.CreatedAt, c.ExpiresAt = normTime(c.CreatedAt), normTime(c.ExpiresAt)
	err := t.queryRow(ctx, `
		INSERT INTO challenges (org_id, user_id, kind, token_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		int64(c.OrgID), int64(c.UserID), string(c.Kind), c.TokenHash, t.time(c.CreatedAt), t.time(c.ExpiresAt)).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: insert challenge: %w", err)
	}
	return nil
}

const challengeCols = `id, org_id, user_id, kind, token_hash, created_at, expires_at`

func scanChallenge(row interface{ Scan(...any) error }) (account.Challenge, error) {
	var c account.Challenge
	err := row.Scan(&c.ID, &c.OrgID, &c.UserID, &c.Kind, &c.TokenHash, timeCol{&c.CreatedAt}, timeCol{&c.ExpiresAt})
	return c, err
}

// ChallengeByTokenHash returns the unconsumed, unexpired challenge with this
// digest without using it up.
func (t *tx) ChallengeByTokenHash(ctx context.Context, hash []byte, now time.Time) (account.Challenge, error) {
	c, err := scanChallenge(t.queryRow(ctx, `SELECT `+challengeCols+` FROM challenges
		WHERE token_hash = ? AND consumed_at IS NULL AND expires_at > ?`, hash, t.time(now)))
	if err != nil {
		return account.Challenge{}, notFound("challenge by token", err)
	}
	return c, nil
}

// ConsumeChallenge marks the challenge used in one conditional UPDATE: of
// concurrent consumers exactly one gets the row back.
func (t *tx) ConsumeChallenge(ctx context.Context, hash []byte, now time.Time) (account.Challenge, error) {
	c, err := scanChallenge(t.queryRow(ctx, `
		UPDATE challenges SET consumed_at = ?
		WHERE token_hash = ? AND consumed_at IS NULL AND expires_at > ?
		RETURNING `+challengeCols, t.time(now), hash, t.time(now)))
	if err != nil {
		return account.Challenge{}, notFound("consume challenge", err)
	}
	return c, nil
}

// DeleteUserChallenges removes every challenge of the user.
func (t *tx) DeleteUserChallenges(ctx context.Context, org account.OrgID, user account.UserID) error {
	if _, err := t.exec(ctx, `DELETE FROM challenges WHERE org_id = ? AND user_id = ?`, int64(org), int64(user)); err != nil {
		return fmt.Errorf("sqlstore: delete user challenges: %w", err)
	}
	return nil
}
