package account

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// ExportColumns are the columns of the user export: every field of the
// User object, and no secret.
var ExportColumns = []string{"id", "email", "name", "kind", "roles", "status", "locked_until", "failed_logins",
	"auth_source", "created_at", "updated_at", "last_login_at", "password_changed_at"}

// ExportUsers streams the users the actor may read, a page at a time, so
// memory stays constant whatever the organization's size. emit gets the
// header first. Returns forbidden when the actor may read no user.
func (s *Service) ExportUsers(ctx context.Context, a Actor, emit func(record []string) error) error {
	const op = "account.ExportUsers"
	if len(a.visibleKinds()) == 0 {
		return wrap(op, errForbidden)
	}
	if err := emit(ExportColumns); err != nil {
		return err
	}
	cursor := ""
	for {
		page, err := s.ListUsers(ctx, a, ListUsersInput{Limit: MaxPageSize, Cursor: cursor})
		if err != nil {
			return wrap(op, err)
		}
		for _, u := range page.Users {
			if err := emit(exportRecord(u)); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

func exportRecord(u User) []string {
	t := func(v *time.Time) string {
		if v == nil {
			return ""
		}
		return v.UTC().Format(time.RFC3339)
	}
	return []string{strconv.FormatInt(int64(u.ID), 10), u.Email, u.Name, string(u.Kind), strings.Join(u.Roles, ";"),
		string(u.Status), t(u.LockedUntil), strconv.Itoa(u.FailedLogins), string(u.AuthSource),
		u.CreatedAt.UTC().Format(time.RFC3339), u.UpdatedAt.UTC().Format(time.RFC3339), t(u.LastLoginAt), t(u.PasswordChangedAt)}
}
