package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// inflightStale is how old a count of attempts in flight may be before it is
// taken for the leftover of a process that died mid-attempt.
const inflightStale = time.Minute

// BeginLoginAttempt takes one of the account's attempt slots in a single
// conditional statement: it succeeds while failures plus attempts in flight
// stay under max (max <= 0: no limit). An expired lock is cleared on the way.
func (t *tx) BeginLoginAttempt(ctx context.Context, org account.OrgID, id account.UserID, max int, now time.Time) (account.Attempt, error) {
	var n int
	q, args := t.beginAttempt(org, id, max, now)
	err := t.queryRow(ctx, q, args...).Scan(&n)
	if err == nil {
		return account.Attempt{Admitted: true, Failures: n}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return account.Attempt{}, fmt.Errorf("sqlstore: begin login attempt: %w", err)
	}
	if max <= 0 {
		max = math.MaxInt32
	}
	// Not admitted: locked, or every slot is taken by attempts in flight.
	var (
		failed int
		until  *time.Time
	)
	err = t.queryRow(ctx, `SELECT failed_logins, locked_until FROM users WHERE org_id = ? AND id = ?`,
		int64(org), int64(id)).Scan(&failed, nullTimeCol{&until})
	if err != nil {
		return account.Attempt{}, notFound("begin login attempt", err)
	}
	locked := until != nil && until.After(now) || failed >= max
	return account.Attempt{Locked: locked, Failures: failed}, nil
}

// beginAttempt is the conditional statement of BeginLoginAttempt: it
// returns failed_logins, or no row when the attempt is not admitted.
func (t *tx) beginAttempt(org account.OrgID, id account.UserID, max int, now time.Time) (string, []any) {
	if max <= 0 {
		max = math.MaxInt32
	}
	stale := now.Add(-inflightStale)
	return `
		UPDATE users SET
			failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN 0 ELSE failed_logins END,
			locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN NULL ELSE locked_until END,
			login_inflight = CASE WHEN login_inflight_at IS NULL OR login_inflight_at <= ? THEN 1 ELSE login_inflight + 1 END,
			login_inflight_at = ?
		WHERE org_id = ? AND id = ?
			AND (locked_until IS NULL OR locked_until <= ?)
			AND (CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN 0 ELSE failed_logins END)
				+ (CASE WHEN login_inflight_at IS NULL OR login_inflight_at <= ? THEN 0 ELSE login_inflight END) < ?
		RETURNING failed_logins`,
		[]any{t.time(now), t.time(now), t.time(stale), t.time(now),
			int64(org), int64(id),
			t.time(now), t.time(now), t.time(stale), max}
}

// EndLoginAttempt gives the slot back and records the outcome. A success
// subtracts only the failures that came before the attempt, so that wrong
// guesses sent alongside a right one still count toward the lock.
func (t *tx) EndLoginAttempt(ctx context.Context, org account.OrgID, id account.UserID, e account.AttemptEnd, now time.Time) (int, error) {
	var n int
	q, args := t.endAttempt(org, id, e, now)
	if err := t.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, notFound("end login attempt", err)
	}
	return n, nil
}

// endAttempt is the statement of EndLoginAttempt, RETURNING failed_logins.
func (t *tx) endAttempt(org account.OrgID, id account.UserID, e account.AttemptEnd, now time.Time) (string, []any) {
	max := e.MaxFailures
	if max <= 0 {
		max = math.MaxInt32
	}
	set, args := "", []any{}
	switch e.Outcome {
	case account.AttemptFailed:
		set = ", failed_logins = failed_logins + 1"
	case account.AttemptSucceeded:
		rest := "(CASE WHEN failed_logins > ? THEN failed_logins - ? ELSE 0 END)"
		set = ", locked_until = CASE WHEN " + rest + " >= ? THEN locked_until ELSE NULL END" +
			", failed_logins = " + rest + ", last_login_at = ?"
		args = append(args, e.Earlier, e.Earlier, max, e.Earlier, e.Earlier, t.time(now))
	}
	args = append(args, t.time(now), int64(org), int64(id))
	return `UPDATE users SET login_inflight = CASE WHEN login_inflight > 0 THEN login_inflight - 1 ELSE 0 END` + set + `,
			updated_at = ?
		WHERE org_id = ? AND id = ? RETURNING failed_logins`, args
}

// LockUser locks the user until the given time unless it is locked already.
func (t *tx) LockUser(ctx context.Context, org account.OrgID, id account.UserID, until, now time.Time) (bool, error) {
	res, err := t.exec(ctx, `UPDATE users SET locked_until = ?, updated_at = ?
		WHERE org_id = ? AND id = ? AND (locked_until IS NULL OR locked_until <= ?)`,
		t.time(until), t.time(now), int64(org), int64(id), t.time(now))
	if err != nil {
		return false, fmt.Errorf("sqlstore: lock user: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: lock user: %w", err)
	}
	return n == 1, nil
}
