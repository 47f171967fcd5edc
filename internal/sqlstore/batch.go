package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// batchRows bounds the rows of one multi-row INSERT, well under both
// databases' limits on bound parameters.
const batchRows = 100

// values returns "(?, ?, ...), (...)" for n rows of k columns.
func values(n, k int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", k), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// CreateUsers inserts users of one organization a hundred to a statement,
// setting their IDs; a taken email fails the whole call with CodeEmailTaken.
func (t *tx) CreateUsers(ctx context.Context, org account.OrgID, us []*account.User) error {
	var names []string
	for _, u := range us {
		for _, r := range u.Roles {
			if !contains(names, r) {
				names = append(names, r)
			}
		}
	}
	ids, err := t.roleIDs(ctx, org, names)
	if err != nil {
		return err
	}
	roleID := map[string]int64{}
	for i, n := range names {
		roleID[n] = ids[i]
	}
	now := time.Now()
	for start := 0; start < len(us); start += batchRows {
		chunk := us[start:min(start+batchRows, len(us))]
		args := make([]any, 0, len(chunk)*17)
		for _, u := range chunk {
			if u.CreatedAt.IsZero() {
				u.CreatedAt = now
			}
			if u.UpdatedAt.IsZero() {
				u.UpdatedAt = u.CreatedAt
			}
			u.OrgID = org
			u.CreatedAt, u.UpdatedAt = normTime(u.CreatedAt), normTime(u.UpdatedAt)
			args = append(args, int64(org), u.Email, u.Name, account.FoldName(u.Name), string(u.Kind), string(u.Status),
				string(u.AuthSource), u.PasswordHash, u.TempPasswordHash, t.timePtr(u.TempPasswordExpiresAt),
				u.RequirePasswordChange, t.timePtr(u.LockedUntil), u.FailedLogins, t.timePtr(u.LastLoginAt),
				t.timePtr(u.PasswordChangedAt), t.time(u.CreatedAt), t.time(u.UpdatedAt))
		}
		rows, err := t.query(ctx, `
			INSERT INTO users (org_id, email, name, name_key, kind, status, auth_source, password_hash,
				temp_password_hash, temp_password_expires_at, require_password_change, locked_until,
				failed_logins, last_login_at, password_changed_at, created_at, updated_at)
			VALUES `+values(len(chunk), 17)+` RETURNING id, email`, args...)
		if isUnique(err) {
			return errEmailTaken
		}
		if err != nil {
			return fmt.Errorf("sqlstore: insert users: %w", err)
		}
		byEmail := map[string]account.UserID{}
		for rows.Next() {
			var id int64
			var email string
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: insert users: %w", err)
			}
			byEmail[email] = account.UserID(id)
		}
		err = rows.Err()
		rows.Close()
		if isUnique(err) {
			return errEmailTaken
		}
		if err != nil {
			return fmt.Errorf("sqlstore: insert users: %w", err)
		}
		var ra []any
		n := 0
		for _, u := range chunk {
			u.ID = byEmail[u.Email]
			for _, r := range u.Roles {
				ra = append(ra, int64(u.ID), roleID[r])
				n++
			}
		}
		for s := 0; s < n; s += batchRows * 4 {
			e := min(s+batchRows*4, n)
			if _, err := t.exec(ctx, `INSERT INTO user_roles (user_id, role_id) VALUES `+values(e-s, 2)+` ON CONFLICT DO NOTHING`,
				ra[2*s:2*e]...); err != nil {
				return fmt.Errorf("sqlstore: insert user roles: %w", err)
			}
		}
	}
	return nil
}

// AppendAudits inserts several events a hundred to a statement.
func (t *tx) AppendAudits(ctx context.Context, es []*account.AuditEvent) error {
	for start := 0; start < len(es); start += batchRows {
		chunk := es[start:min(start+batchRows, len(es))]
		args := make([]any, 0, len(chunk)*9)
		for _, e := range chunk {
			details, err := json.Marshal(e.Details)
			if err != nil {
				return fmt.Errorf("sqlstore: insert audit events: %w", err)
			}
			if e.At.IsZero() {
				e.At = time.Now()
			}
			e.At = normTime(e.At)
			args = append(args, int64(e.OrgID), t.time(e.At), string(e.Action), idPtr(e.ActorID), idPtr(e.TargetID),
				e.IP, e.UserAgent, string(e.Outcome), string(details))
		}
		if _, err := t.exec(ctx, `INSERT INTO audit_events (org_id, at, action, actor_id, target_id, ip, user_agent, outcome, details)
			VALUES `+values(len(chunk), 9), args...); err != nil {
			return fmt.Errorf("sqlstore: insert audit events: %w", err)
		}
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// UsersByEmails returns the organization's users with these (normalized)
// emails, with their roles, keyed by email, in a few statements.
func (t *tx) UsersByEmails(ctx context.Context, org account.OrgID, emails []string) (map[string]account.User, error) {
	out := map[string]account.User{}
	for start := 0; start < len(emails); start += batchRows * 5 {
		chunk := emails[start:min(start+batchRows*5, len(emails))]
		args := []any{int64(org)}
		for _, e := range chunk {
			args = append(args, account.NormalizeEmail(e))
		}
		rows, err := t.query(ctx, `SELECT `+userCols+` FROM users WHERE org_id = ? AND email IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: users by emails: %w", err)
		}
		var us []account.User
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlstore: users by emails: %w", err)
			}
			us = append(us, u)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlstore: users by emails: %w", err)
		}
		if err := t.loadUsersRoles(ctx, org, us); err != nil {
			return nil, err
		}
		for _, u := range us {
			out[u.Email] = u
		}
	}
	return out, nil
}
