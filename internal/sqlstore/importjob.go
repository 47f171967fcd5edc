package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

var _ account.ImportTx = (*tx)(nil)

const importJobCols = `id, org_id, actor_id, status, all_or_nothing, format, file, total, processed,
	created, updated, unchanged, failed, result, error, lease_until, created_at, updated_at, finished_at`

func scanImportJob(row interface{ Scan(...any) error }) (account.ImportJob, error) {
	var (
		j      account.ImportJob
		actor  sql.NullInt64
		result string
	)
	err := row.Scan(&j.ID, &j.OrgID, &actor, &j.Status, &j.AllOrNothing, &j.Format, &j.File, &j.Total, &j.Processed,
		&j.Created, &j.Updated, &j.Unchanged, &j.Failed, &result, &j.Error,
		nullTimeCol{&j.LeaseUntil}, timeCol{&j.CreatedAt}, timeCol{&j.UpdatedAt}, nullTimeCol{&j.FinishedAt})
	if actor.Valid {
		id := account.UserID(actor.Int64)
		j.ActorID = &id
	}
	if result != "" {
		j.Result = []byte(result)
	}
	return j, err
}

// blob returns b as a query argument for a NOT NULL BLOB/BYTEA column: the
// drivers would send a nil slice as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateImportJob inserts j and sets j.ID. Zero CreatedAt and UpdatedAt
// become now; an empty Status is running. An organization that does not exist
// is ErrNotFound.
func (t *tx) CreateImportJob(ctx context.Context, j *account.ImportJob) error {
	if j.CreatedAt.IsZero() {
		j.CreatedAt = time.Now()
	}
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = j.CreatedAt
	}
	if j.Status == "" {
		j.Status = account.ImportRunning
	}
	j.CreatedAt, j.UpdatedAt = normTime(j.CreatedAt), normTime(j.UpdatedAt)
	err := t.queryRow(ctx, `
		INSERT INTO import_jobs (org_id, actor_id, status, all_or_nothing, format, file, total, processed,
			created, updated, unchanged, failed, result, error, lease_until, created_at, updated_at, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		int64(j.OrgID), idPtr(j.ActorID), string(j.Status), j.AllOrNothing, j.Format, blob(j.File), j.Total, j.Processed,
		j.Created, j.Updated, j.Unchanged, j.Failed, string(j.Result), j.Error,
		t.timePtr(j.LeaseUntil), t.time(j.CreatedAt), t.time(j.UpdatedAt), t.timePtr(j.FinishedAt)).Scan(&j.ID)
	if err != nil {
		if isForeignKey(err) {
			return account.ErrNotFound // no such organization
		}
		return fmt.Errorf("sqlstore: create import job: %w", err)
	}
	return nil
}

// ImportJobByID returns one job of the organization, with its file; another
// organization's is ErrNotFound.
func (t *tx) ImportJobByID(ctx context.Context, org account.OrgID, id int64) (account.ImportJob, error) {
	j, err := scanImportJob(t.queryRow(ctx, `SELECT `+importJobCols+` FROM import_jobs WHERE org_id = ? AND id = ?`,
		int64(org), id))
	if err != nil {
		return account.ImportJob{}, notFound("import job by id", err)
	}
	return j, nil
}

// UpdateImportJob writes j's status, counts, result, error, lease, file,
// updated and finished times, found by j.OrgID and j.ID; the organization,
// actor, format, all_or_nothing and creation time stay as created. A missing
// job, or another organization's, is ErrNotFound.
func (t *tx) UpdateImportJob(ctx context.Context, j *account.ImportJob) error {
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = time.Now()
	}
	j.UpdatedAt = normTime(j.UpdatedAt)
	res, err := t.exec(ctx, `
		UPDATE import_jobs SET status = ?, file = ?, total = ?, processed = ?, created = ?, updated = ?,
			unchanged = ?, failed = ?, result = ?, error = ?, lease_until = ?, updated_at = ?, finished_at = ?
		WHERE org_id = ? AND id = ?`,
		string(j.Status), blob(j.File), j.Total, j.Processed, j.Created, j.Updated,
		j.Unchanged, j.Failed, string(j.Result), j.Error, t.timePtr(j.LeaseUntil), t.time(j.UpdatedAt), t.timePtr(j.FinishedAt),
		int64(j.OrgID), j.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: update import job: %w", err)
	}
	return affected("update import job", res)
}

// claimImportJob leases the oldest running job whose lease is unset or has
// lapsed, in one statement. On PostgreSQL, FOR UPDATE SKIP LOCKED makes a
// concurrent claimer pass over a row being claimed instead of waiting for it;
// one that reaches the row after that claim committed re-checks the lease on
// the new row version and drops it. On SQLite the statement runs under the
// database's one write lock.
const claimImportJob = `
	UPDATE import_jobs SET lease_until = ?
	WHERE id = (
		SELECT id FROM import_jobs
		WHERE status = 'running' AND (lease_until IS NULL OR lease_until <= ?)
		ORDER BY id
		LIMIT 1%s)
	RETURNING ` + importJobCols

// ClaimImportJob takes the oldest running job of any organization whose
// lease is unset or lapsed at now, leasing it until now+lease, and returns
// it with its file; when there is none, ErrNotFound. Only one of several
// concurrent claimers gets a given job.
func (t *tx) ClaimImportJob(ctx context.Context, now time.Time, lease time.Duration) (account.ImportJob, error) {
	lock := ""
	if t.pg {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	j, err := scanImportJob(t.queryRow(ctx, fmt.Sprintf(claimImportJob, lock), t.time(now.Add(lease)), t.time(now)))
	if err != nil {
		return account.ImportJob{}, notFound("claim import job", err)
	}
	return j, nil
}
