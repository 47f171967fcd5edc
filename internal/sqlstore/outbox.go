package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

var _ account.OutboxTx = (*tx)(nil)

const emailCols = `id, org_id, user_id, to_addr, from_name, template, subject, text_body, html_body,
	status, attempts, last_error, next_attempt_at, created_at, sent_at`

func scanEmail(row interface{ Scan(...any) error }) (account.Email, error) {
	var (
		e    account.Email
		user sql.NullInt64
	)
	err := row.Scan(&e.ID, &e.OrgID, &user, &e.To, &e.FromName, &e.Template, &e.Subject, &e.TextBody, &e.HTMLBody,
		&e.Status, &e.Attempts, &e.LastError, timeCol{&e.NextAttemptAt}, timeCol{&e.CreatedAt}, nullTimeCol{&e.SentAt})
	if user.Valid {
		id := account.UserID(user.Int64)
		e.UserID = &id
	}
	return e, err
}

// EnqueueEmail inserts e as queued, due at e.NextAttemptAt (e.CreatedAt when
// zero; a zero e.CreatedAt becomes now), and sets e.ID, e.Status and
// e.Attempts. A user of another organization is ErrNotFound, so an entry
// never names someone it cannot belong to.
func (t *tx) EnqueueEmail(ctx context.Context, e *account.Email) error {
	if e.UserID != nil {
		var one int
		err := t.queryRow(ctx, `SELECT 1 FROM users WHERE org_id = ? AND id = ?`, int64(e.OrgID), int64(*e.UserID)).Scan(&one)
		if err != nil {
			return notFound("enqueue email", err)
		}
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = e.CreatedAt
	}
	e.CreatedAt, e.NextAttemptAt = normTime(e.CreatedAt), normTime(e.NextAttemptAt)
	e.Status, e.Attempts, e.LastError, e.SentAt = account.EmailQueued, 0, "", nil
	err := t.queryRow(ctx, `
		INSERT INTO emails (org_id, user_id, to_addr, from_name, template, subject, text_body, html_body,
			status, attempts, last_error, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', ?, ?) RETURNING id`,
		int64(e.OrgID), idPtr(e.UserID), e.To, e.FromName, e.Template, e.Subject, e.TextBody, e.HTMLBody,
		string(account.EmailQueued), t.time(e.NextAttemptAt), t.time(e.CreatedAt)).Scan(&e.ID)
	if err != nil {
		if isForeignKey(err) {
			return account.ErrNotFound // no such organization
		}
		return fmt.Errorf("sqlstore: enqueue email: %w", err)
	}
	return nil
}

// EmailByID returns one entry of the organization; another's is ErrNotFound.
func (t *tx) EmailByID(ctx context.Context, org account.OrgID, id account.EmailID) (account.Email, error) {
	e, err := scanEmail(t.queryRow(ctx, `SELECT `+emailCols+` FROM emails WHERE org_id = ? AND id = ?`, int64(org), int64(id)))
	if err != nil {
		return account.Email{}, notFound("email by id", err)
	}
	return e, nil
}

// ListEmails lists the organization's entries matching f, newest (highest
// ID) first; a Limit of 0 is no limit.
func (t *tx) ListEmails(ctx context.Context, org account.OrgID, f account.EmailFilter) ([]account.Email, error) {
	where := []string{"org_id = ?"}
	args := []any{int64(org)}
	if f.UserID != nil {
		where, args = append(where, "user_id = ?"), append(args, int64(*f.UserID))
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, int64(f.BeforeID))
	}
	q := `SELECT ` + emailCols + ` FROM emails WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list emails: %w", err)
	}
	defer rows.Close()
	out := []account.Email{}
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list emails: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list emails: %w", err)
	}
	return out, nil
}

// RequeueEmail makes a failed or queued entry due at now with its attempts
// and error reset; a sent one (its bodies are gone), a missing one or
// another organization's is ErrNotFound. An entry a worker is sending at
// that moment keeps its lease, so it is not sent twice at once.
func (t *tx) RequeueEmail(ctx context.Context, org account.OrgID, id account.EmailID, now time.Time) error {
	res, err := t.exec(ctx, `
		UPDATE emails SET status = 'queued', attempts = 0, last_error = '', next_attempt_at = ?
		WHERE org_id = ? AND id = ? AND status IN ('queued', 'failed')`,
		t.time(now), int64(org), int64(id))
	if err != nil {
		return fmt.Errorf("sqlstore: requeue email: %w", err)
	}
	return affected("requeue email", res)
}

// CountEmails counts the user's entries of a template created at or after
// since, whatever their status: the limit on reset emails per hour.
func (t *tx) CountEmails(ctx context.Context, org account.OrgID, user account.UserID, template string, since time.Time) (int, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM emails WHERE org_id = ? AND user_id = ? AND template = ? AND created_at >= ?`,
		int64(org), int64(user), template, t.time(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count emails: %w", err)
	}
	return n, nil
}

// The worker's methods below are single statements on the writer pool,
// outside any account.Tx: the mail worker is not a use case, and each
// statement is atomic on its own. sq formats their arguments.
func (db *DB) sq() *tx { return &tx{pg: db.dialect == DialectPostgres} }

// claimEmails is the claim: one statement that picks the due entries not
// leased to a worker, oldest due first, and leases them. On PostgreSQL FOR
// UPDATE SKIP LOCKED lets claims in several processes pass each other
// without waiting and without taking the same row; the UPDATE re-checks
// each locked row, so a row claimed and committed meanwhile drops out. On
// SQLite the statement runs under the database's one write lock.
const claimEmails = `
	UPDATE emails SET claimed_until = ?, attempts = attempts + 1
	WHERE id IN (
		SELECT id FROM emails
		WHERE status = 'queued' AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
		ORDER BY next_attempt_at, id
		LIMIT ?%s)
	RETURNING ` + emailCols

// ClaimEmails leases up to limit due entries (queued, next_attempt_at <= now,
// not leased or the lease lapsed at now) until now+lease, adding one to
// their attempts, and returns them with their bodies, in the order they
// fell due. Until the lease ends no other claim returns them; so the lease
// must be longer than sending takes.
func (db *DB) ClaimEmails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]account.Email, error) {
	if limit <= 0 {
		return nil, nil
	}
	t := db.sq()
	lock := ""
	if t.pg {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := db.writer.QueryContext(ctx, t.bind(fmt.Sprintf(claimEmails, lock)),
		t.time(now.Add(lease)), t.time(now), t.time(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claim emails: %w", err)
	}
	defer rows.Close()
	var out []account.Email
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: claim emails: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: claim emails: %w", err)
	}
	// RETURNING follows no ORDER BY.
	slices.SortFunc(out, func(a, b account.Email) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// The outcomes apply only to an entry still claimed (queued with a lease):
// one requeued and sent by someone else meanwhile, or already recorded, is
// left alone and the answer is ErrNotFound.
const claimed = ` WHERE id = ? AND status = 'queued' AND claimed_until IS NOT NULL`

// MarkEmailSent records a claimed entry as sent at at and empties its
// bodies, which held the link: only the metadata stays.
func (db *DB) MarkEmailSent(ctx context.Context, id account.EmailID, at time.Time) error {
	t := db.sq()
	res, err := db.writer.ExecContext(ctx, t.bind(`
		UPDATE emails SET status = 'sent', sent_at = ?, text_body = '', html_body = '', claimed_until = NULL,
			last_error = ''`+claimed), t.time(at), int64(id))
	if err != nil {
		return fmt.Errorf("sqlstore: mark email sent: %w", err)
	}
	return affected("mark email sent", res)
}

// MarkEmailRetry gives a claimed entry back, due again at next, with the
// error of this attempt.
func (db *DB) MarkEmailRetry(ctx context.Context, id account.EmailID, next time.Time, errText string) error {
	t := db.sq()
	res, err := db.writer.ExecContext(ctx, t.bind(`
		UPDATE emails SET next_attempt_at = ?, claimed_until = NULL, last_error = ?`+claimed),
		t.time(next), errText, int64(id))
	if err != nil {
		return fmt.Errorf("sqlstore: mark email retry: %w", err)
	}
	return affected("mark email retry", res)
}

// MarkEmailFailed records a claimed entry as failed for good with the
// error; its bodies stay, so that RequeueEmail can send it again. at is
// kept as its next_attempt_at, the time it was given up.
func (db *DB) MarkEmailFailed(ctx context.Context, id account.EmailID, at time.Time, errText string) error {
	t := db.sq()
	res, err := db.writer.ExecContext(ctx, t.bind(`
		UPDATE emails SET status = 'failed', next_attempt_at = ?, claimed_until = NULL, last_error = ?`+claimed),
		t.time(at), errText, int64(id))
	if err != nil {
		return fmt.Errorf("sqlstore: mark email failed: %w", err)
	}
	return affected("mark email failed", res)
}
