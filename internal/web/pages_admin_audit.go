package web

// The Audit page (PRODUCT.md flow 11): who did what to whom, when, from
// where, and the outcome, filtered and paged like GET /api/v1/audit.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// auditPageSize is the number of events an Audit page shows.
const auditPageSize = 50

// auditActions are the actions the Action filter offers: API.md's, and the
// others the service records.
var auditActions = []string{
	"user.created", "user.updated", "user.deleted", "user.password_set", "user.temporary_password_issued",
	"user.reset_email_sent", "user.reset_requested", "user.password_reset", "user.password_changed",
	"user.login", "user.login_failed", "user.logout", "user.locked", "user.unlocked", "user.sessions_revoked",
	"import.completed", "role.created", "role.updated", "role.deleted", "org.created", "org.updated",
}

var auditActionOptions = func() []option {
	out := []option{{"", "Any"}}
	for _, a := range auditActions {
		out = append(out, option{a, a})
	}
	return out
}()

// auditFilter is the Audit page's filters, as the query string carries them.
type auditFilter struct{ Action, ActorID, TargetID, Since, Until string }

// Any reports whether a filter is set.
func (f auditFilter) Any() bool { return len(f.values()) > 0 }

func (f auditFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"action": f.Action, "actor_id": f.ActorID, "target_id": f.TargetID,
		"since": f.Since, "until": f.Until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// query turns the filters into the service's query; bad values are named by
// field. Until is a day and includes it.
func (f auditFilter) query() (account.AuditQuery, fieldErrors) {
	q := account.AuditQuery{Action: f.Action, Limit: auditPageSize}
	fields := fieldErrors{}
	if f.Action != "" && !contains(auditActions, f.Action) {
		fields.add("action", "Choose an action from the list.")
	}
	for _, id := range []struct {
		name, value string
		dst         **account.UserID
	}{{"actor_id", f.ActorID, &q.ActorID}, {"target_id", f.TargetID, &q.TargetID}} {
		if id.value == "" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(id.value), 10, 64)
		if err != nil || n <= 0 {
			fields.add(id.name, "Enter a user ID: a whole number such as 42.")
			continue
		}
		uid := account.UserID(n)
		*id.dst = &uid
	}
	for _, d := range []struct {
		name, value string
		dst         *time.Time
		add         time.Duration
	}{{"since", f.Since, &q.Since, 0}, {"until", f.Until, &q.Until, 24 * time.Hour}} {
		if d.value == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.value)
		if err != nil {
			fields.add(d.name, "Enter a date such as 2026-03-01.")
			continue
		}
		*d.dst = t.Add(d.add)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		fields.add("until", "Must not be before Since.")
	}
	return q, fields
}

// auditRow is one event as the table shows it.
type auditRow struct {
	At         time.Time
	Action     string
	Actor      string // an ID, or a word when there is none
	ActorPath  string
	Target     string
	TargetPath string
	IP         string
	UserAgent  string
	Outcome    string
	Details    []detailPair
}

type detailPair struct{ Key, Value string }

type auditView struct {
	*pageData
	Base     string
	Filter   auditFilter
	Actions  []option
	Fields   fieldErrors
	Events   []auditRow
	Searched bool // the filters were applied without error
	NextURL  string
	FirstURL string
}

// auditPage serves GET /o/{org}/admin/audit.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	d, err := s.adminLayout(r, a, "Audit")
	if err != nil {
		return err
	}
	qs := r.URL.Query()
	f := auditFilter{Action: qs.Get("action"), ActorID: strings.TrimSpace(qs.Get("actor_id")),
		TargetID: strings.TrimSpace(qs.Get("target_id")), Since: qs.Get("since"), Until: qs.Get("until")}
	v := &auditView{pageData: d, Base: s.orgPath(a.OrgSlug, "admin/audit"), Filter: f, Actions: auditActionOptions}
	q, fields := f.query()
	v.Fields = fields
	status := http.StatusOK
	if len(fields) > 0 {
		// A refusal (no audit.read) comes before a complaint about the filters.
		if _, err := s.accounts.Audit(r.Context(), a, account.AuditQuery{Limit: 1}); err != nil {
			return err
		}
		v.Error = "Some filters are not valid."
		return s.renderView(w, r, http.StatusUnprocessableEntity, "admin-audit", v)
	}
	q.Cursor = qs.Get("cursor")
	p, err := s.accounts.Audit(r.Context(), a, q)
	if err != nil {
		if c := account.ErrorCode(err); c != account.CodeInvalidCursor && c != account.CodeValidation {
			return err
		}
		var body errorJSON
		status, body = publicError(err)
		v.Error = withDetails(body)
	} else {
		v.Searched = true
	}
	for _, e := range p.Events {
		v.Events = append(v.Events, s.auditRowOf(a, e))
	}
	if p.NextCursor != "" {
		nv := f.values()
		nv.Set("cursor", p.NextCursor)
		v.NextURL = v.Base + "?" + nv.Encode()
	}
	if q.Cursor != "" {
		v.FirstURL = v.Base
		if fv := f.values(); len(fv) > 0 {
			v.FirstURL += "?" + fv.Encode()
		}
	}
	return s.renderView(w, r, status, "admin-audit", v)
}

func (s *Server) auditRowOf(a account.Actor, e account.AuditEvent) auditRow {
	row := auditRow{At: e.At, Action: string(e.Action), IP: e.IP, UserAgent: e.UserAgent, Outcome: string(e.Outcome),
		Details: detailPairs(e.Details)}
	// A user's page is under admin/users; it sends a community user on to
	// community/users.
	userPath := func(id account.UserID) string {
		return s.orgPath(a.OrgSlug, "admin/users/"+strconv.FormatInt(int64(id), 10))
	}
	switch {
	case e.ActorID != nil:
		row.Actor, row.ActorPath = strconv.FormatInt(int64(*e.ActorID), 10), userPath(*e.ActorID)
	case e.Details["via"] == "cli" || e.Details["via"] == "init":
		row.Actor = "operator"
	default:
		// Nobody signed in: a sign-in attempt, or a lock that it caused.
		row.Actor = "none"
	}
	if e.TargetID != nil {
		row.Target, row.TargetPath = strconv.FormatInt(int64(*e.TargetID), 10), userPath(*e.TargetID)
	}
	return row
}

// detailPairs renders an event's details as key: value pairs, the reason
// first, then by key.
func detailPairs(d map[string]any) []detailPair {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "reason") != (keys[j] == "reason") {
			return keys[i] == "reason"
		}
		return keys[i] < keys[j]
	})
	out := make([]detailPair, 0, len(keys))
	for _, k := range keys {
		out = append(out, detailPair{Key: k, Value: detailValue(d[k])})
	}
	return out
}

func detailValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case string:
		return x
	case bool, int, int64, float64, json.Number:
		return fmt.Sprint(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			parts = append(parts, detailValue(p))
		}
		return strings.Join(parts, ", ")
	case []string:
		return strings.Join(x, ", ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
