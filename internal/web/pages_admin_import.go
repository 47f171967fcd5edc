package web

// The Import page (PRODUCT.md flow 7): upload a spreadsheet of users, see
// what each row would do (Preview, a dry run), then run the import, follow
// a large one as a job with a progress bar, and download its rejected rows.
// The service plans and applies; this file only carries the file to it and
// shows its report.
//
// Nothing of an upload is kept between the steps (there is no store for
// drafts, and the file may hold passwords): the run step asks for the file
// again. The preview page carries a MAC of the previewed file, keyed with
// the browser's CSRF token, and a run of any other file shows that file's
// preview instead of applying it, so what runs is what was previewed.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/importer"
)

// importTableRows is the most rows a report's table shows; past it, only
// the rejected rows are listed (the counts cover every row).
const importTableRows = 1000

// importColumn is one line of the page's list of columns.
type importColumn struct{ Name, Meaning string }

var importColumns = []importColumn{
	{"email", "Required. Rows are matched to users by email: a re-run of the same file creates nobody twice."},
	{"name", "The user's name; required for a new user."},
	{"kind", "staff, resident or business; staff when empty. An existing user's kind cannot change."},
	{"roles", "Role names separated by ; (quote the cell in a file whose delimiter is ;)."},
	{"password", "A password meeting the organization's policy; it is stored as an argon2id hash."},
	{"password_hash", "A hash from another system, so that users keep their password: argon2id, bcrypt, PBKDF2, Django or Keycloak. Give a password or a password_hash, not both."},
	{"send_welcome", "true or false: send a welcome email with a link to choose a password to a new user without one (the default)."},
}

var importActionLabels = map[string]string{
	"create":    "Create",
	"update":    "Update",
	"unchanged": "Unchanged",
	"reject":    "Reject",
}

// importLine is one row of a report's table.
type importLine struct {
	Row     int
	Email   string
	Action  string // the service's action, for CSS
	Label   string // Create, Update, Unchanged, Reject
	Problem string // the row's problems, joined
}

// importResult is a report as the page shows it.
type importResult struct {
	account.ImportReport
	Lines []importLine
	// Partial: the table lists only the rejected rows (a large file).
	Partial bool
}

// importView is the Import page: the upload form, and a preview or a job.
type importView struct {
	*pageData
	Base         string // /o/{org}/admin/import
	Columns      []importColumn
	AllOrNothing bool
	Details      []account.Detail // what is wrong with the file
	Preview      *importResult
	Digest       string // the MAC of the previewed file
	CanRun       bool   // the preview has a row to apply
	Job          *importResult
	JobPath      string
}

// Running reports whether the job page should refresh itself.
func (v *importView) Running() bool { return v.Job != nil && v.Job.Status == account.ImportRunning }

// Percent is the job's progress, 0 to 100.
func (v *importView) Percent() int {
	if v.Job == nil || v.Job.Total == 0 {
		return 0
	}
	return v.Job.Processed * 100 / v.Job.Total
}

func toImportResult(rep account.ImportReport) *importResult {
	res := &importResult{ImportReport: rep, Partial: len(rep.Rows) > importTableRows}
	res.Lines = importLines(rep, res.Partial, importTableRows)
	return res
}

// importLines are a report's rows with their problems joined: only the
// rejected ones if told, and at most limit (0: all).
func importLines(rep account.ImportReport, rejectedOnly bool, limit int) []importLine {
	problems := map[int][]string{}
	for _, p := range rep.Errors {
		msg := strings.TrimSuffix(strings.TrimSpace(p.Message), ".")
		if p.Field != "" {
			msg = p.Field + ": " + msg
		}
		problems[p.Row] = append(problems[p.Row], msg)
	}
	var out []importLine
	for _, r := range rep.Rows {
		if rejectedOnly && r.Action != "reject" {
			continue
		}
		if limit > 0 && len(out) == limit {
			break
		}
		label := importActionLabels[r.Action]
		if label == "" {
			label = r.Action
		}
		out = append(out, importLine{Row: r.Row, Email: r.Email, Action: r.Action, Label: label,
			Problem: strings.Join(problems[r.Row], "; ")})
	}
	return out
}

func (s *Server) importView(r *http.Request, a account.Actor, title string) (*importView, error) {
	d, err := s.adminLayout(r, a, title)
	if err != nil {
		return nil, err
	}
	return &importView{pageData: d, Base: s.orgPath(a.OrgSlug, "admin/import"), Columns: importColumns}, nil
}

// mayImport refuses an actor who may not import, before a page is shown:
// the service decides, through ImportStatus, which answers forbidden before
// it looks for the job (there is no job 0).
func (s *Server) mayImport(r *http.Request, a account.Actor) error {
	if _, err := s.accounts.ImportStatus(r.Context(), a, 0); err != nil && account.ErrorCode(err) != account.CodeNotFound {
		return err
	}
	return nil
}

// importPage serves GET /o/{org}/admin/import: the upload form.
func (s *Server) importPage(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	if err := s.mayImport(r, a); err != nil {
		return err
	}
	v, err := s.importView(r, a, "Import users")
	if err != nil {
		return err
	}
	return s.renderView(w, r, http.StatusOK, "admin-import", v)
}

// uploadCSRF is csrf for the import forms, whose multipart bodies may be as
// large as an import file (csrf reads at most 64 KiB). A body too large is
// shown on the page.
func (s *Server) uploadCSRF(h func(http.ResponseWriter, *http.Request, account.Actor) error) func(http.ResponseWriter, *http.Request, account.Actor) error {
	return func(w http.ResponseWriter, r *http.Request, a account.Actor) error {
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
		if err := r.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			if err := s.mayImport(r, a); err != nil {
				return err
			}
			var mb *http.MaxBytesError
			e := &account.Error{Code: account.CodeInvalid, Message: "The upload could not be read.", Err: err}
			if errors.As(err, &mb) || strings.Contains(err.Error(), "request body too large") {
				e = &account.Error{Code: account.CodeBodyTooLarge, Message: "The file is larger than 50 MiB.", Err: err}
			}
			return s.importFailed(w, r, a, e)
		}
		return s.csrf(func(w http.ResponseWriter, r *http.Request) error { return h(w, r, a) })(w, r)
	}
}

// importFailed shows the upload form with the service's refusal of the file
// (its header, its size, its format); a refusal of the actor, or a failure,
// is the error page.
func (s *Server) importFailed(w http.ResponseWriter, r *http.Request, a account.Actor, err error) error {
	st, body, fatal := formError(err)
	if fatal != nil || st == http.StatusForbidden || st == http.StatusUnauthorized {
		return err
	}
	retryAfter(w, st, err)
	v, verr := s.importView(r, a, "Import users")
	if verr != nil {
		return verr
	}
	v.Error = body.Message
	for _, d := range body.Details {
		if d.Field == "file" && !strings.Contains(d.Message, " ") {
			continue // a code ("missing", "empty") that the message says
		}
		if d.Field == "file" {
			d.Field = ""
		}
		v.Details = append(v.Details, d)
	}
	v.AllOrNothing = r.PostFormValue("all_or_nothing") != ""
	return s.renderView(w, r, st, "admin-import", v)
}

// previewDigest is the MAC of a previewed file, keyed with the browser's
// CSRF token: the run step applies only the file that was previewed.
func (s *Server) previewDigest(r *http.Request, data []byte) string {
	m := hmac.New(sha256.New, []byte(s.cookie(r, csrfCookie)))
	m.Write([]byte("latchkey import preview\x00"))
	m.Write(data)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// importPreview serves POST /o/{org}/admin/import/preview: a dry run of the
// uploaded file, row by row.
func (s *Server) importPreview(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	data, format, err := readUpload(w, r)
	if err != nil {
		return s.importFailed(w, r, a, err)
	}
	return s.renderPreview(w, r, a, data, format, "")
}

func (s *Server) renderPreview(w http.ResponseWriter, r *http.Request, a account.Actor, data []byte, format importer.Format, notice string) error {
	all := r.PostFormValue("all_or_nothing") != ""
	rep, err := s.accounts.Import(r.Context(), a, account.ImportInput{Format: format, File: data, DryRun: true, AllOrNothing: all})
	if err != nil {
		return s.importFailed(w, r, a, err)
	}
	v, err := s.importView(r, a, "Import preview")
	if err != nil {
		return err
	}
	v.AllOrNothing, v.Preview, v.Notice = all, toImportResult(rep), notice
	v.CanRun = rep.Failed < rep.Total
	if v.CanRun {
		v.Digest = s.previewDigest(r, data)
	}
	// The page names the file's users; keep it out of caches.
	w.Header().Set("Cache-Control", "no-store")
	return s.renderView(w, r, http.StatusOK, "admin-import", v)
}

// importRun serves POST /o/{org}/admin/import/run: the import of the file
// previewed, then the job's page (a file of up to 1,000 rows is done by
// then; a larger one is running).
func (s *Server) importRun(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	data, format, err := readUpload(w, r)
	if err != nil {
		return s.importFailed(w, r, a, err)
	}
	if d := r.PostFormValue("preview_digest"); !hmac.Equal([]byte(d), []byte(s.previewDigest(r, data))) {
		return s.renderPreview(w, r, a, data, format,
			"This is not the file you previewed, so nothing was imported. Check its preview below, then choose it again to run the import.")
	}
	rep, err := s.accounts.Import(r.Context(), a, account.ImportInput{Format: format, File: data,
		AllOrNothing: r.PostFormValue("all_or_nothing") != ""})
	if err != nil {
		return s.importFailed(w, r, a, err)
	}
	path := s.orgPath(a.OrgSlug, "admin/import/"+strconv.FormatInt(rep.ID, 10))
	switch rep.Status {
	case account.ImportRunning:
		s.redirectWithNotice(w, r, path, "The import is running.")
	case account.ImportDone:
		s.redirectWithNotice(w, r, path, "Import finished.")
	default:
		http.Redirect(w, r, path, http.StatusSeeOther)
	}
	return nil
}

func importID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &account.Error{Code: account.CodeNotFound, Message: "Not found."}
	}
	return id, nil
}

// importJobPage serves GET /o/{org}/admin/import/{id}: the progress of an
// import, refreshing itself while it runs, then its counts and rows.
func (s *Server) importJobPage(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := importID(r)
	if err != nil {
		return err
	}
	rep, err := s.accounts.ImportStatus(r.Context(), a, id)
	if err != nil {
		return err
	}
	title := "Import " + strconv.FormatInt(id, 10)
	v, err := s.importView(r, a, title)
	if err != nil {
		return err
	}
	v.Job, v.JobPath = toImportResult(rep), v.Base+"/"+strconv.FormatInt(id, 10)
	if rep.Status == account.ImportFailed && rep.Error != "" {
		v.Error = "The import failed: " + rep.Error
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.renderView(w, r, http.StatusOK, "admin-import", v)
}

// importRejectedCSV serves GET /o/{org}/admin/import/{id}/rejected.csv: the
// job's rejected rows with their cells (passwords and hashes are never
// kept, so those columns come back empty) and a problem column saying what
// to fix. The file imports as is once fixed: the problem column is ignored.
func (s *Server) importRejectedCSV(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := importID(r)
	if err != nil {
		return err
	}
	rep, err := s.accounts.ImportStatus(r.Context(), a, id)
	if err != nil {
		return err
	}
	var b strings.Builder
	cw := importer.NewCSVWriter(&b)
	if err := cw.Write([]string{"email", "name", "kind", "roles", "send_welcome", importer.ProblemColumn}); err != nil {
		return err
	}
	for _, x := range rep.Rejected {
		welcome := ""
		if x.SendWelcome != nil {
			welcome = strconv.FormatBool(*x.SendWelcome)
		}
		if err := cw.Write([]string{x.Email, x.Name, x.Kind, strings.Join(x.Roles, ";"), welcome,
			fmt.Sprintf("row %d: %s", x.Row, x.Problem)}); err != nil {
			return err
		}
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="import-`+strconv.FormatInt(id, 10)+`-rejected.csv"`)
	h.Set("Cache-Control", "no-store")
	_, err = w.Write([]byte(b.String()))
	return err
}
