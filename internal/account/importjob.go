package account

import (
	"context"
	"time"
)

// ImportStatus is where an import job stands.
type ImportStatus string

// The statuses of an import job.
const (
	ImportRunning ImportStatus = "running"
	ImportDone    ImportStatus = "done"
	ImportFailed  ImportStatus = "failed"
)

// ImportJob is a bulk import kept in the database, so that another process
// resumes it when the one running it dies. The uploaded file is kept until
// the job ends; Result is the JSON report of the rows so far.
type ImportJob struct {
	ID           int64
	OrgID        OrgID
	ActorID      *UserID
	Status       ImportStatus
	AllOrNothing bool
	Format       string // "csv" or "xlsx"
	File         []byte
	Total        int
	Processed    int
	Created      int
	Updated      int
	Unchanged    int
	Failed       int
	Result       []byte
	Error        string
	LeaseUntil   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	FinishedAt   *time.Time
}

// ImportTx is the part of Tx that keeps import jobs.
type ImportTx interface {
	// CreateImportJob inserts j and sets j.ID.
	CreateImportJob(ctx context.Context, j *ImportJob) error
	// ImportJobByID returns one job of the organization.
	ImportJobByID(ctx context.Context, org OrgID, id int64) (ImportJob, error)
	// UpdateImportJob writes j's status, counts, result, error, lease,
	// finished time, and the file (emptied when the job ends).
	UpdateImportJob(ctx context.Context, j *ImportJob) error
	// ClaimImportJob takes one running job whose lease has lapsed (its
	// process died, or it was never started), setting a new lease, in one
	// conditional statement so that only one process resumes it; otherwise
	// ErrNotFound.
	ClaimImportJob(ctx context.Context, now time.Time, lease time.Duration) (ImportJob, error)
}
