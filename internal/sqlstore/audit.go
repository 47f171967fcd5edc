package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// AppendAudit inserts e and sets e.ID; a zero e.At becomes now.
func (t *tx) AppendAudit(ctx context.Context, e *account.AuditEvent) error {
	q, args, err := t.insertAudit(e)
	if err == nil {
		err = t.queryRow(ctx, q, args...).Scan(&e.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: insert audit event: %w", err)
	}
	return nil
}

// insertAudit is the statement of AppendAudit, RETURNING id; it stamps and
// normalizes e.At.
func (t *tx) insertAudit(e *account.AuditEvent) (string, []any, error) {
	details, err := json.Marshal(e.Details)
	if err != nil {
		return "", nil, err
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = normTime(e.At)
	return `INSERT INTO audit_events (org_id, at, action, actor_id, target_id, ip, user_agent, outcome, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		[]any{int64(e.OrgID), t.time(e.At), string(e.Action), idPtr(e.ActorID), idPtr(e.TargetID), e.IP, e.UserAgent,
			string(e.Outcome), string(details)}, nil
}

// AuditEvents lists the organization's events matching f, newest (highest
// ID) first. Since is inclusive, Until exclusive; a Limit of 0 is no limit.
func (t *tx) AuditEvents(ctx context.Context, org account.OrgID, f account.AuditFilter) ([]account.AuditEvent, error) {
	where := []string{"org_id = ?"}
	args := []any{int64(org)}
	if f.ActorID != nil {
		where, args = append(where, "actor_id = ?"), append(args, int64(*f.ActorID))
	}
	if f.TargetID != nil {
		where, args = append(where, "target_id = ?"), append(args, int64(*f.TargetID))
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, string(f.Action))
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, t.time(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, t.time(f.Until))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	q := `SELECT id, org_id, at, action, actor_id, target_id, ip, user_agent, outcome, details
		FROM audit_events WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list audit events: %w", err)
	}
	defer rows.Close()
	out := []account.AuditEvent{}
	for rows.Next() {
		var (
			e             account.AuditEvent
			actor, target sql.NullInt64
			details       string
		)
		if err := rows.Scan(&e.ID, &e.OrgID, timeCol{&e.At}, &e.Action, &actor, &target, &e.IP, &e.UserAgent,
			&e.Outcome, &details); err != nil {
			return nil, fmt.Errorf("sqlstore: list audit events: %w", err)
		}
		if actor.Valid {
			id := account.UserID(actor.Int64)
			e.ActorID = &id
		}
		if target.Valid {
			id := account.UserID(target.Int64)
			e.TargetID = &id
		}
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return nil, fmt.Errorf("sqlstore: details of audit event %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list audit events: %w", err)
	}
	return out, nil
}
