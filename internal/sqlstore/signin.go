package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/latchkey/latchkey/internal/account"
)

// FinishSignIn writes a successful sign-in: the session, its audit event,
// the end of the attempt and, with w.HandOver, a slot taken for the next
// sign-in of the account, in that order and in one transaction.
//
// On PostgreSQL the statements go as one pipelined batch, which the server
// runs as one implicit transaction: one round trip and one commit instead of
// six round trips, on the path every sign-in takes.
func (db *DB) FinishSignIn(ctx context.Context, w account.SignInWrite) (account.Attempt, error) {
	if db.dialect == DialectPostgres {
		return db.finishSignInBatch(ctx, w)
	}
	var handed account.Attempt
	err := db.Tx(ctx, func(atx account.Tx) error {
		t := atx.(*tx)
		if err := t.CreateSession(ctx, w.Session); err != nil {
			return err
		}
		if err := t.AppendAudit(ctx, w.Event); err != nil {
			return err
		}
		if _, err := t.EndLoginAttempt(ctx, w.Session.OrgID, w.Session.UserID, w.End, w.At); err != nil {
			return err
		}
		if !w.HandOver {
			return nil
		}
		var n int
		q, args := t.beginAttempt(w.Session.OrgID, w.Session.UserID, w.End.MaxFailures, w.At)
		switch err := t.queryRow(ctx, q, args...).Scan(&n); {
		case err == nil:
			handed = account.Attempt{Admitted: true, Failures: n}
		case !isNoRows(err):
			return fmt.Errorf("sqlstore: hand over a login slot: %w", err)
		}
		return nil
	})
	if err != nil {
		return account.Attempt{}, err
	}
	return handed, nil
}

func (db *DB) finishSignInBatch(ctx context.Context, w account.SignInWrite) (account.Attempt, error) {
	t := &tx{pg: true}
	org, user := w.Session.OrgID, w.Session.UserID
	var b pgx.Batch
	q, args := t.insertSession(w.Session)
	b.Queue(rebind(q), args...)
	q, args, err := t.insertAudit(w.Event)
	if err != nil {
		return account.Attempt{}, fmt.Errorf("sqlstore: finish sign-in: %w", err)
	}
	b.Queue(rebind(q), args...)
	q, args = t.endAttempt(org, user, w.End, w.At)
	b.Queue(rebind(q), args...)
	if w.HandOver {
		q, args = t.beginAttempt(org, user, w.End.MaxFailures, w.At)
		b.Queue(rebind(q), args...)
	}

	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return account.Attempt{}, fmt.Errorf("sqlstore: finish sign-in: %w", err)
	}
	defer conn.Close()
	var handed account.Attempt
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		res := c.Conn().SendBatch(ctx, &b)
		err := func() error {
			if err := res.QueryRow().Scan(&w.Session.ID); err != nil {
				return fmt.Errorf("insert session: %w", err)
			}
			if err := res.QueryRow().Scan(&w.Event.ID); err != nil {
				return fmt.Errorf("insert audit event: %w", err)
			}
			var n int
			if err := res.QueryRow().Scan(&n); err != nil {
				return notFound("end login attempt", err)
			}
			if !w.HandOver {
				return nil
			}
			switch err := res.QueryRow().Scan(&n); {
			case err == nil:
				handed = account.Attempt{Admitted: true, Failures: n}
			case !isNoRows(err):
				return fmt.Errorf("hand over a login slot: %w", err)
			}
			return nil
		}()
		// Close reads what is left, the implicit commit's answer included;
		// after a failed statement the server has rolled everything back.
		return errors.Join(err, res.Close())
	})
	if errors.Is(err, account.ErrNotFound) {
		return account.Attempt{}, account.ErrNotFound
	}
	if err != nil {
		return account.Attempt{}, fmt.Errorf("sqlstore: finish sign-in: %w", err)
	}
	return handed, nil
}

// isNoRows reports whether err says a statement returned no row, from
// database/sql or from pgx.
func isNoRows(err error) bool {
	return errors.Is(err, pgx.ErrNoRows) || errors.Is(err, sql.ErrNoRows)
}
