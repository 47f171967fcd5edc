package account

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/importer"
	"github.com/latchkey/latchkey/internal/password"
)

// Import limits: a file of up to SyncImportRows rows is applied within the
// request; a larger one becomes a job. MaxImportRows bounds any file.
const (
	SyncImportRows = 1000
	MaxImportRows  = 100_000
	importLease    = time.Minute
)

// ActionImportCompleted is the audit action of a finished import.
const ActionImportCompleted Action = "import.completed"

// ImportInput is an uploaded file and how to apply it.
type ImportInput struct {
	Format       importer.Format
	File         []byte
	DryRun       bool
	AllOrNothing bool
	// Wait applies even a large file within the call (the command line),
	// with progress told after every 50 rows.
	Wait     bool
	Progress func(ImportReport)
}

// ImportProblem is a rejected row (Row 0: the file) and why.
type ImportProblem struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ImportRowResult is what happens, or happened, to one row.
type ImportRowResult struct {
	Row    int    `json:"row"`
	Email  string `json:"email"`
	Action string `json:"action"` // create, update, unchanged or reject
}

// ImportReport is the answer to an import and to polling its job.
type ImportReport struct {
	ID        int64             `json:"id"`
	Status    ImportStatus      `json:"status"`
	DryRun    bool              `json:"dry_run"`
	Total     int               `json:"total"`
	Processed int               `json:"processed"`
	Created   int               `json:"created"`
	Updated   int               `json:"updated"`
	Unchanged int               `json:"unchanged"`
	Failed    int               `json:"failed"`
	Errors    []ImportProblem   `json:"errors"`
	Rows      []ImportRowResult `json:"rows"`
	Error     string            `json:"error,omitempty"`
	// Rejected keeps the rejected rows' cells, secrets left out, so that
	// they can be offered back as a file to fix and upload again.
	Rejected []RejectedRow `json:"rejected_rows,omitempty"`
}

// RejectedRow is a rejected row's cells, without password or hash.
type RejectedRow struct {
	Row         int      `json:"row"`
	Email       string   `json:"email"`
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Roles       []string `json:"roles"`
	SendWelcome *bool    `json:"send_welcome,omitempty"`
	Problem     string   `json:"problem"`
}

// planned is one row's plan.
type planned struct {
	row      importer.Row
	action   string
	existing *User
	roles    []string // nil: keep
	name     string
	kind     Kind
	hash     string // a given password_hash, or the argon2id of a given password once hashed
	hashSeen bool   // the given hash was the user's before, so it changes nothing
	plain    string
	changes  []string
	welcome  bool
}

func (a Actor) canImport() bool {
	return a.Has(PermUsersImport) || a.Has(PermCommunityImport)
}

// Import applies a spreadsheet of users: rows are matched by email, so a
// re-run creates nothing twice. A dry run only reports what would happen.
// A file of up to 1,000 rows is applied within the call; a larger one
// becomes a job (the report's status is running; poll ImportStatus).
// Returns forbidden without users.import or community.import,
// validation_failed for an unusable file (no email column, an unknown
// column), overloaded.
func (s *Service) Import(ctx context.Context, a Actor, in ImportInput) (ImportReport, error) {
	const op = "account.Import"
	if !a.canImport() {
		return ImportReport{}, wrap(op, errForbidden)
	}
	rows, problems, err := importer.Read(bytes.NewReader(in.File), in.Format, MaxImportRows)
	if err != nil {
		return ImportReport{}, wrap(op, &Error{Code: CodeValidation, Message: "The file cannot be read: " + err.Error() + ".",
			Details: []Detail{{Field: "file", Message: err.Error()}}, Err: err})
	}
	var fileProblems []Detail
	for _, p := range problems {
		if p.Row == 0 {
			fileProblems = append(fileProblems, Detail{Field: p.Field, Message: p.Message})
		}
	}
	if len(fileProblems) > 0 {
		return ImportReport{}, wrap(op, &Error{Code: CodeValidation, Message: "The file's header row has problems; nothing was imported.", Details: fileProblems})
	}
	if in.DryRun || len(rows) <= SyncImportRows || in.Wait {
		var progress func(ImportReport) error
		if in.Progress != nil {
			progress = func(r ImportReport) error { in.Progress(r); return nil }
		}
		rep, err := s.runImport(ctx, a, rows, problems, in.DryRun, in.AllOrNothing, progress)
		if err != nil {
			return ImportReport{}, wrap(op, err)
		}
		if !in.DryRun {
			if err := s.recordImport(ctx, a, in, &rep); err != nil {
				return ImportReport{}, wrap(op, err)
			}
		}
		return rep, nil
	}
	// A large file: a job in the database, run by whichever process claims it.
	now := s.now()
	uid := a.UserID
	j := ImportJob{OrgID: a.OrgID, Status: ImportRunning, AllOrNothing: in.AllOrNothing, Format: string(in.Format),
		File: in.File, Total: len(rows), CreatedAt: now, UpdatedAt: now}
	if uid != 0 {
		j.ActorID = &uid
	}
	if err := s.store.Tx(ctx, func(tx Tx) error { return tx.CreateImportJob(ctx, &j) }); err != nil {
		return ImportReport{}, wrap(op, err)
	}
	s.wakeImports()
	return ImportReport{ID: j.ID, Status: ImportRunning, Total: len(rows), Errors: []ImportProblem{}, Rows: []ImportRowResult{}}, nil
}

// recordImport stores a finished in-request import as a done job, so that
// GET /imports/{id} answers for it too.
func (s *Service) recordImport(ctx context.Context, a Actor, in ImportInput, rep *ImportReport) error {
	now := s.now()
	res, _ := json.Marshal(rep)
	j := ImportJob{OrgID: a.OrgID, Status: rep.Status, AllOrNothing: in.AllOrNothing, Format: string(in.Format),
		Total: rep.Total, Processed: rep.Processed, Created: rep.Created, Updated: rep.Updated, Unchanged: rep.Unchanged,
		Failed: rep.Failed, Result: res, Error: rep.Error, CreatedAt: now, UpdatedAt: now, FinishedAt: &now}
	if a.UserID != 0 {
		uid := a.UserID
		j.ActorID = &uid
	}
	if err := s.store.Tx(ctx, func(tx Tx) error { return tx.CreateImportJob(ctx, &j) }); err != nil {
		return err
	}
	rep.ID = j.ID
	return nil
}

// ImportStatus reports on an import job. Returns not_found, forbidden.
func (s *Service) ImportStatus(ctx context.Context, a Actor, id int64) (ImportReport, error) {
	const op = "account.ImportStatus"
	if !a.canImport() {
		return ImportReport{}, wrap(op, errForbidden)
	}
	var j ImportJob
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		j, err = tx.ImportJobByID(ctx, a.OrgID, id)
		return err
	})
	if err != nil {
		return ImportReport{}, wrap(op, notFound(err))
	}
	rep := ImportReport{Errors: []ImportProblem{}, Rows: []ImportRowResult{}}
	if len(j.Result) > 0 {
		_ = json.Unmarshal(j.Result, &rep)
	}
	rep.ID, rep.Status, rep.Total, rep.Processed = j.ID, j.Status, j.Total, j.Processed
	rep.Created, rep.Updated, rep.Unchanged, rep.Failed, rep.Error = j.Created, j.Updated, j.Unchanged, j.Failed, j.Error
	return rep, nil
}

// runImport plans every row, then (unless dry) applies the plan. progress,
// when set, is told after each applied row.
func (s *Service) runImport(ctx context.Context, a Actor, rows []importer.Row, problems []importer.Problem, dry, allOrNothing bool,
	progress func(ImportReport) error) (ImportReport, error) {
	plan, extra, err := s.planImport(ctx, a, rows, problems)
	if err != nil {
		return ImportReport{}, err
	}
	problems = append(slices.Clone(problems), extra...)
	slices.SortStableFunc(problems, func(x, y importer.Problem) int { return x.Row - y.Row })
	rep := ImportReport{Status: ImportDone, DryRun: dry, Total: len(plan), Errors: []ImportProblem{}, Rows: []ImportRowResult{}}
	for _, p := range plan {
		rep.Rows = append(rep.Rows, ImportRowResult{Row: p.row.Line, Email: NormalizeEmail(p.row.Email), Action: p.action})
	}
	for _, p := range problems {
		if p.Row > 0 {
			rep.Errors = append(rep.Errors, ImportProblem{Row: p.Row, Field: p.Field, Message: p.Message})
		}
	}
	count := func(r *ImportReport, action string) {
		switch action {
		case "create":
			r.Created++
		case "update":
			r.Updated++
		case "unchanged":
			r.Unchanged++
		case "reject":
			r.Failed++
		}
	}
	if dry {
		for _, p := range plan {
			count(&rep, p.action)
		}
		rep.Processed = len(plan)
		return withRejected(rep, plan), nil
	}
	if allOrNothing && slices.ContainsFunc(plan, func(p *planned) bool { return p.action == "reject" }) {
		for _, p := range plan {
			if p.action == "reject" {
				rep.Failed++
			}
		}
		rep.Status, rep.Error = ImportFailed, "Rows were rejected, and all_or_nothing is set: nothing was written."
		rep.Processed = len(plan)
		return withRejected(rep, plan), nil
	}
	if err := s.hashImport(ctx, plan); err != nil {
		return ImportReport{}, err
	}
	o, err := s.OrgBySlug(ctx, a.OrgSlug)
	if err != nil && a.OrgSlug != "" {
		return ImportReport{}, err
	}
	if o.ID == 0 {
		err = s.store.View(ctx, func(tx Tx) error { o, err = tx.OrgByID(ctx, a.OrgID); return err })
		if err != nil {
			return ImportReport{}, err
		}
	}
	apply := func(tx Tx, p *planned) error { return s.applyRow(ctx, tx, a, o, p) }
	welcomed := false
	if allOrNothing {
		err := s.store.Tx(ctx, func(tx Tx) error {
			for _, p := range plan {
				if err := apply(tx, p); err != nil {
					return fmt.Errorf("row %d: %w", p.row.Line, err)
				}
			}
			return nil
		})
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Code != CodeInternal {
				rep.Status, rep.Error = ImportFailed, err.Error()
				rep.Processed = len(plan)
				return withRejected(rep, plan), nil
			}
			return ImportReport{}, err
		}
		for _, p := range plan {
			count(&rep, p.action)
			welcomed = welcomed || p.welcome
		}
		rep.Processed = len(plan)
	} else {
		// Rows are written in batches, one transaction each, for speed; a
		// batch that fails is written again row by row, so that one row
		// changed since planning (say its email was taken meanwhile) is
		// rejected alone.
		const batch = 250
		for start := 0; start < len(plan); start += batch {
			chunk := plan[start:min(start+batch, len(plan))]
			err := s.store.Tx(ctx, func(tx Tx) error { return s.applyBatch(ctx, tx, a, o, chunk) })
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Code == CodeInternal {
					return ImportReport{}, err
				}
				for i, p := range chunk {
					if p.action != "create" && p.action != "update" {
						continue
					}
					err := s.store.Tx(ctx, func(tx Tx) error { return apply(tx, p) })
					if err != nil {
						if !errors.As(err, &e) || e.Code == CodeInternal {
							return ImportReport{}, err
						}
						p.action = "reject"
						rep.Rows[start+i].Action = "reject"
						rep.Errors = append(rep.Errors, ImportProblem{Row: p.row.Line, Field: "email", Message: e.Message})
					}
				}
			}
			for _, p := range chunk {
				count(&rep, p.action)
				welcomed = welcomed || p.welcome && p.action == "create"
			}
			rep.Processed = start + len(chunk)
			if progress != nil {
				if err := progress(rep); err != nil {
					return ImportReport{}, err
				}
			}
		}
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		return s.append(ctx, tx, a.event(ActionImportCompleted, nil, OutcomeSuccess, map[string]any{
			"total": rep.Total, "created": rep.Created, "updated": rep.Updated, "unchanged": rep.Unchanged, "failed": rep.Failed}))
	})
	if err != nil {
		return ImportReport{}, err
	}
	if welcomed {
		s.wake()
	}
	return withRejected(rep, plan), nil
}

func reject(p *planned, field, msg string, problems *[]importer.Problem) {
	if p.action != "reject" {
		p.action = "reject"
	}
	*problems = append(*problems, importer.Problem{Row: p.row.Line, Field: field, Message: msg})
}

// planImport decides every row's action without writing anything.
func (s *Service) planImport(ctx context.Context, a Actor, rows []importer.Row, problems []importer.Problem) ([]*planned, []importer.Problem, error) {
	var (
		o     Org
		roles []Role
	)
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if o, err = tx.OrgByID(ctx, a.OrgID); err != nil {
			return err
		}
		roles, err = tx.Roles(ctx, a.OrgID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	bad := map[int]bool{}
	for _, p := range problems {
		bad[p.Row] = true
	}
	seen := map[string]int{}
	var out []*planned
	var extra []importer.Problem
	for _, r := range rows {
		p := &planned{row: r}
		out = append(out, p)
		if bad[r.Line] {
			p.action = "reject"
		}
		email := NormalizeEmail(r.Email)
		switch {
		case email == "":
			reject(p, "email", "The email is missing.", &extra)
		case !ValidEmail(email):
			reject(p, "email", "Not an email address such as ann@example.org.", &extra)
		}
		if first, dup := seen[email]; dup && email != "" {
			reject(p, "email", fmt.Sprintf("The same email is on row %d.", first), &extra)
		} else if email != "" {
			seen[email] = r.Line
		}
		p.name = strings.TrimSpace(r.Name)
		if p.name != "" && !validName(p.name) {
			reject(p, "name", "Enter a name of 1 to 200 characters.", &extra)
		}
		if r.Kind != "" {
			p.kind = Kind(strings.ToLower(strings.TrimSpace(r.Kind)))
			if !p.kind.Valid() {
				reject(p, "kind", "Must be staff, resident or business.", &extra)
			}
		}
		if r.Has["roles"] {
			p.roles = dedupe(r.Roles)
			if perms, err := rolePerms(roles, p.roles); err != nil {
				var e *Error
				errors.As(err, &e)
				reject(p, "roles", e.Details[0].Message, &extra)
			} else if a.canGrant(perms) != nil {
				reject(p, "roles", "You cannot grant permissions you do not have.", &extra)
			}
		}
		if r.Password != "" && r.PasswordHash != "" {
			reject(p, "password", "Give a password or a password_hash, not both.", &extra)
		}
		if r.PasswordHash != "" {
			if _, err := password.Parse(r.PasswordHash); err != nil {
				reject(p, "password_hash", "The hash cannot be used: "+strings.TrimPrefix(err.Error(), "password: ")+".", &extra)
			}
			p.hash = r.PasswordHash
		}
		p.plain = r.Password
	}
	// Look the rows up and finish their plans.
	err = s.store.View(ctx, func(tx Tx) error {
		emails := make([]string, 0, len(out))
		for _, p := range out {
			if e := NormalizeEmail(p.row.Email); e != "" {
				emails = append(emails, e)
			}
		}
		found, err := tx.UsersByEmails(ctx, a.OrgID, emails)
		if err != nil {
			return err
		}
		for _, p := range out {
			u, ok := found[NormalizeEmail(p.row.Email)]
			if ok {
				p.existing = &u
				if p.hash != "" && p.hash != u.PasswordHash {
					// A hash imported before and since replaced (rehashed at
					// sign-in, or changed by the user) is no change to make.
					hist, err := tx.PasswordHistory(ctx, a.OrgID, u.ID, maxHistory)
					if err != nil {
						return err
					}
					p.hashSeen = slices.Contains(hist, p.hash)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, p := range out {
		kind := p.kind
		if p.existing == nil {
			if kind == "" {
				kind = KindStaff
			}
			p.kind = kind
			if p.name == "" {
				reject(p, "name", "The name is missing.", &extra)
			}
			if !a.Has(permFor(kind, verbImport)) || !a.Has(permFor(kind, verbCreate)) && !a.Has(permFor(kind, verbImport)) {
				reject(p, "kind", "You may not import users of this kind.", &extra)
			}
			if p.plain != "" {
				if err := s.checkPassword(o, User{Email: NormalizeEmail(p.row.Email), Name: p.name}, p.plain); err != nil {
					reject(p, "password", policyText(err), &extra)
				}
			}
			if p.action != "reject" {
				p.action = "create"
				p.welcome = p.plain == "" && p.hash == "" && (p.row.SendWelcome == nil || *p.row.SendWelcome)
			}
			continue
		}
		u := p.existing
		if err := a.canManage(*u, verbUpdate); err != nil || !a.Has(permFor(u.Kind, verbImport)) {
			reject(p, "email", "You may not change this user.", &extra)
			continue
		}
		if kind != "" && kind != u.Kind {
			reject(p, "kind", "The kind of an existing user cannot change.", &extra)
		}
		if u.AuthSource == AuthSSO && (p.plain != "" || p.hash != "") {
			reject(p, "password", errSSOManaged(o).Message, &extra)
		}
		if p.name != "" && p.name != u.Name {
			p.changes = append(p.changes, "name")
		}
		if p.roles != nil && !slices.Equal(sorted(p.roles), sorted(u.Roles)) {
			if slices.Contains(u.Roles, RoleAdministrator) && !slices.Contains(p.roles, RoleAdministrator) {
				reject(p, "roles", "This would remove an Administrator; change administrators on the user page.", &extra)
			}
			p.changes = append(p.changes, "roles")
		}
		if p.hash != "" && p.hash != u.PasswordHash && !p.hashSeen {
			p.changes = append(p.changes, "password")
		}
		if p.plain != "" {
			if err := s.checkPassword(o, *u, p.plain); err != nil {
				reject(p, "password", policyText(err), &extra)
			} else if same, _, _ := s.verify(ctx, u.PasswordHash, p.plain); !same {
				p.changes = append(p.changes, "password")
			} else {
				p.plain = "" // the same password: nothing to hash or write
			}
		}
		if p.action == "reject" {
			continue
		}
		if len(p.changes) == 0 {
			p.action = "unchanged"
		} else {
			p.action = "update"
		}
	}
	return out, extra, nil
}

// policyText is a password_policy error as one sentence for a row report.
func policyText(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	var parts []string
	for _, d := range e.Details {
		parts = append(parts, d.Message)
	}
	if len(parts) == 0 {
		return e.Message
	}
	return "The password does not meet the rules: " + strings.Join(parts, "; ") + "."
}

// hashImport hashes the rows' plain passwords, as many at once as the
// hashing limiter runs, before any write transaction.
func (s *Service) hashImport(ctx context.Context, plan []*planned) error {
	var todo []*planned
	for _, p := range plan {
		if p.plain != "" && (p.action == "create" || p.action == "update") {
			todo = append(todo, p)
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	work := make(chan *planned)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				h, err := s.hasher.Hash(ctx, password.Normalize(p.plain))
				mu.Lock()
				if err != nil && first == nil {
					first = hashErr(err)
				}
				p.hash = h
				mu.Unlock()
			}
		}()
	}
	for _, p := range todo {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		work <- p
	}
	close(work)
	wg.Wait()
	return first
}

// applyRow writes one planned row with its audit event (and welcome email).
func (s *Service) applyRow(ctx context.Context, tx Tx, a Actor, o Org, p *planned) error {
	now := s.now()
	switch p.action {
	case "create":
		u := User{OrgID: a.OrgID, Email: NormalizeEmail(p.row.Email), Name: p.name, Kind: p.kind, Roles: p.roles,
			AuthSource: AuthLocal, Status: StatusInvited, CreatedAt: now, UpdatedAt: now}
		if u.Roles == nil {
			u.Roles = []string{}
		}
		if p.hash != "" {
			u.PasswordHash, u.Status, u.PasswordChangedAt = p.hash, StatusActive, &now
		}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := s.append(ctx, tx, a.event(ActionUserCreated, &u.ID, OutcomeSuccess,
			map[string]any{"email": u.Email, "kind": string(u.Kind), "roles": u.Roles, "status": string(u.Status), "via": "import"})); err != nil {
			return err
		}
		if p.welcome && s.cfg.Renderer != nil {
			return s.sendWelcome(ctx, tx, a, o, u)
		}
		return nil
	case "update":
		u, err := tx.UserByID(ctx, a.OrgID, p.existing.ID)
		if err != nil {
			return notFound(err)
		}
		if err := a.canManage(u, verbUpdate); err != nil {
			return err
		}
		if slices.Contains(p.changes, "roles") {
			if err := tx.SetUserRoles(ctx, a.OrgID, u.ID, p.roles); err != nil {
				return err
			}
		}
		if slices.Contains(p.changes, "name") {
			u.Name = p.name
		}
		passwordSet := slices.Contains(p.changes, "password") && p.hash != ""
		if passwordSet {
			if err := s.setPassword(ctx, tx, o, &u, p.hash, now); err != nil {
				return err
			}
		} else {
			u.UpdatedAt = now
			if err := tx.UpdateUser(ctx, &u); err != nil {
				return err
			}
		}
		if err := s.append(ctx, tx, a.event(ActionUserUpdated, &u.ID, OutcomeSuccess,
			map[string]any{"fields": p.changes, "via": "import"})); err != nil {
			return err
		}
		if passwordSet {
			if err := s.append(ctx, tx, a.event(ActionPasswordSet, &u.ID, OutcomeSuccess, map[string]any{"via": "import"})); err != nil {
				return err
			}
			return s.endSessions(ctx, tx, a, u.ID, "import", "")
		}
		return nil
	}
	return nil
}

// importWake nudges this process's import runner.
var importWake = make(chan struct{}, 1)

func (s *Service) wakeImports() {
	select {
	case importWake <- struct{}{}:
	default:
	}
}

// RunImports runs import jobs until ctx ends: it claims a job whose lease
// has lapsed (new, or left by a process that died), applies its rows with
// progress, and renews the lease as it goes. Several processes may run it.
func (s *Service) RunImports(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		for {
			var j ImportJob
			err := s.store.Tx(ctx, func(tx Tx) error {
				var err error
				j, err = tx.ClaimImportJob(ctx, s.now(), importLease)
				return err
			})
			if errors.Is(err, ErrNotFound) {
				break
			}
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("claiming an import job", "err", err)
				}
				break
			}
			s.runJob(ctx, j)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-importWake:
		}
	}
}

// runJob applies one claimed job and records its outcome.
func (s *Service) runJob(ctx context.Context, j ImportJob) {
	a := Actor{OrgID: j.OrgID, Permissions: NewPermissionSet(), Client: Client{UserAgent: "latchkey-import"}}
	err := s.store.View(ctx, func(tx Tx) error {
		o, err := tx.OrgByID(ctx, j.OrgID)
		if err != nil {
			return err
		}
		a.OrgSlug = o.Slug
		if j.ActorID != nil {
			u, err := tx.UserByID(ctx, j.OrgID, *j.ActorID)
			if err != nil {
				return err
			}
			a.UserID, a.Email, a.Permissions = u.ID, u.Email, u.Permissions
		} else {
			a.Permissions = NewPermissionSet(AllPermissions...)
		}
		return nil
	})
	finish := func(rep ImportReport, runErr error) {
		now := s.now()
		j.Status, j.Processed = rep.Status, rep.Processed
		j.Created, j.Updated, j.Unchanged, j.Failed = rep.Created, rep.Updated, rep.Unchanged, rep.Failed
		j.Result, _ = json.Marshal(rep)
		if runErr != nil {
			j.Status, j.Error = ImportFailed, "The import stopped: "+ErrorCode(runErr).String()
		} else {
			j.Error = rep.Error
		}
		j.File, j.FinishedAt, j.LeaseUntil, j.UpdatedAt = nil, &now, nil, now
		if err := s.store.Tx(context.WithoutCancel(ctx), func(tx Tx) error { return tx.UpdateImportJob(ctx, &j) }); err != nil {
			s.log.Error("recording an import job", "job", j.ID, "err", err)
		}
	}
	if err != nil {
		finish(ImportReport{Status: ImportFailed}, err)
		return
	}
	rows, problems, err := importer.Read(bytes.NewReader(j.File), importer.Format(j.Format), MaxImportRows)
	if err != nil {
		finish(ImportReport{Status: ImportFailed}, &Error{Code: CodeValidation, Message: err.Error()})
		return
	}
	rep, err := s.runImport(ctx, a, rows, problems, false, j.AllOrNothing, func(r ImportReport) error {
		now := s.now()
		lease := now.Add(importLease)
		j.Processed, j.Created, j.Updated, j.Unchanged, j.Failed = r.Processed, r.Created, r.Updated, r.Unchanged, r.Failed
		j.LeaseUntil, j.UpdatedAt = &lease, now
		return s.store.Tx(ctx, func(tx Tx) error { return tx.UpdateImportJob(ctx, &j) })
	})
	if ctx.Err() != nil {
		return // this process is stopping; the lease lapses and another resumes it
	}
	finish(rep, err)
}

// applyBatch writes a batch of planned rows in tx: the new users and their
// audit events in a few multi-row statements, then the welcome emails and
// the updates row by row.
func (s *Service) applyBatch(ctx context.Context, tx Tx, a Actor, o Org, chunk []*planned) error {
	now := s.now()
	var (
		users   []*User
		created []*planned
	)
	for _, p := range chunk {
		if p.action != "create" {
			continue
		}
		u := &User{OrgID: a.OrgID, Email: NormalizeEmail(p.row.Email), Name: p.name, Kind: p.kind, Roles: p.roles,
			AuthSource: AuthLocal, Status: StatusInvited, CreatedAt: now, UpdatedAt: now}
		if u.Roles == nil {
			u.Roles = []string{}
		}
		if p.hash != "" {
			u.PasswordHash, u.Status, u.PasswordChangedAt = p.hash, StatusActive, &now
		}
		users = append(users, u)
		created = append(created, p)
	}
	if len(users) > 0 {
		if err := tx.CreateUsers(ctx, a.OrgID, users); err != nil {
			return err
		}
		events := make([]*AuditEvent, 0, len(users))
		for _, u := range users {
			e := a.event(ActionUserCreated, &u.ID, OutcomeSuccess,
				map[string]any{"email": u.Email, "kind": string(u.Kind), "roles": u.Roles, "status": string(u.Status), "via": "import"})
			e.At = now
			events = append(events, e)
		}
		if err := tx.AppendAudits(ctx, events); err != nil {
			return err
		}
		for i, p := range created {
			if p.welcome && s.cfg.Renderer != nil {
				if err := s.sendWelcome(ctx, tx, a, o, *users[i]); err != nil {
					return err
				}
			}
		}
	}
	for _, p := range chunk {
		if p.action == "update" {
			if err := s.applyRow(ctx, tx, a, o, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// withRejected adds the rejected rows' cells, secrets left out, to a report.
func withRejected(rep ImportReport, plan []*planned) ImportReport {
	problemsOf := map[int][]string{}
	for _, e := range rep.Errors {
		problemsOf[e.Row] = append(problemsOf[e.Row], e.Field+": "+e.Message)
	}
	rep.Rejected = nil
	for _, p := range plan {
		if p.action == "reject" {
			r := p.row
			rep.Rejected = append(rep.Rejected, RejectedRow{Row: r.Line, Email: r.Email, Name: r.Name, Kind: r.Kind,
				Roles: r.Roles, SendWelcome: r.SendWelcome, Problem: strings.Join(problemsOf[r.Line], "; ")})
		}
	}
	return rep
}
