package web

// The email half of "why can't they log in?" (PRODUCT.md flows 3, 5 and 10):
// the Emails page lists the outbox with each message's delivery status,
// attempts and SMTP error, with Resend; a user's page shows their recent
// emails and Send password reset email. Without --smtp the outbox is a
// development mailbox: holders of org.manage read the unsent messages here
// (the service decides who sees a body; this file only shows it).

import (
	"html"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// emailsPageSize is the number of entries the Emails page shows.
const emailsPageSize = 100

var emailTemplateLabels = map[string]string{
	account.TemplateReset:           "Password reset",
	account.TemplateWelcome:         "Welcome",
	account.TemplateSSOReminder:     "SSO reminder",
	account.TemplatePasswordChanged: "Password changed notice",
	account.TemplateEmailChanged:    "Email changed notice",
}

var emailStatusLabels = map[account.EmailStatus]string{
	account.EmailQueued: "Queued",
	account.EmailSent:   "Sent",
	account.EmailFailed: "Failed",
}

var emailStatusOptions = []option{
	{"", "Any"},
	{string(account.EmailQueued), emailStatusLabels[account.EmailQueued]},
	{string(account.EmailSent), emailStatusLabels[account.EmailSent]},
	{string(account.EmailFailed), emailStatusLabels[account.EmailFailed]},
}

// emailRow is one outbox entry as the tables show it.
type emailRow struct {
	ID        account.EmailID
	CreatedAt time.Time
	SentAt    *time.Time
	Template  string // the human name
	To        string
	Status    string // Queued, Sent, Failed
	Class     string // the status, for CSS
	Attempts  int
	LastError string
	UserPath  string // the recipient's page, when there is one
	Subject   string
	ShowBody  bool
	Body      template.HTML // the text body, escaped, its links clickable
}

// emailRows turns the service's entries into rows; links in a shown body
// become clickable only when they point at Latchkey itself (--base-url), so
// that a name such as "http://evil.example" stays text.
func (s *Server) emailRows(a account.Actor, vs []account.EmailView) []emailRow {
	out := make([]emailRow, 0, len(vs))
	for _, v := range vs {
		row := emailRow{ID: v.ID, CreatedAt: v.CreatedAt, SentAt: v.SentAt, Template: emailTemplateLabels[v.Template],
			To: v.To, Status: emailStatusLabels[v.Status], Class: string(v.Status), Attempts: v.Attempts,
			LastError: v.LastError, Subject: v.Subject, ShowBody: v.ShowBody}
		if row.Template == "" {
			row.Template = v.Template
		}
		if row.Status == "" {
			row.Status = string(v.Status)
		}
		if v.UserID != nil {
			// Under admin/users; a community user's page sends the browser on.
			row.UserPath = s.orgPath(a.OrgSlug, "admin/users/"+strconv.FormatInt(int64(*v.UserID), 10))
		}
		if v.ShowBody {
			row.Body = s.linkify(v.TextBody)
		}
		out = append(out, row)
	}
	return out
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"']+`)

// linkify escapes a text body and makes the URLs in it that start with the
// base URL into links.
func (s *Server) linkify(text string) template.HTML {
	base := ""
	if s.baseURL != nil {
		base = strings.TrimSuffix(s.baseURL.String(), "/") + "/"
	}
	var b strings.Builder
	last := 0
	for _, m := range urlPattern.FindAllStringIndex(text, -1) {
		u := strings.TrimRight(text[m[0]:m[1]], ".,;:)")
		end := m[0] + len(u)
		b.WriteString(html.EscapeString(text[last:m[0]]))
		if base != "" && strings.HasPrefix(u, base) {
			esc := html.EscapeString(u)
			b.WriteString(`<a href="` + esc + `" rel="noreferrer">` + esc + `</a>`)
		} else {
			b.WriteString(html.EscapeString(u))
		}
		last = end
	}
	b.WriteString(html.EscapeString(text[last:]))
	return template.HTML(b.String()) //nolint:gosec // every piece is escaped above
}

// CanResend reports whether the actor may be offered Resend: an update
// permission of some kind of user. The service still decides per entry.
func canResend(a *account.Actor) bool {
	return a != nil && (a.Has(account.PermUsersUpdate) || a.Has(account.PermCommunityUpdate))
}

// ---- The Emails page ----

// emailFilter is the Emails page's filters, as the query string carries them.
type emailFilter struct{ Status, UserID string }

// Any reports whether a filter is set.
func (f emailFilter) Any() bool { return f.Status != "" || f.UserID != "" }

func (f emailFilter) values() url.Values {
	v := url.Values{}
	if f.Status != "" {
		v.Set("status", f.Status)
	}
	if f.UserID != "" {
		v.Set("user_id", f.UserID)
	}
	return v
}

type emailsView struct {
	*pageData
	Base       string
	Filter     emailFilter
	Statuses   []option
	Fields     fieldErrors
	Emails     []emailRow
	Searched   bool // the filters were applied without error
	DevMailbox bool // some entry's body is shown: nothing is sent
	CanResend  bool
}

// emailsPage serves GET /o/{org}/admin/emails.
func (s *Server) emailsPage(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	q := r.URL.Query()
	f := emailFilter{Status: q.Get("status"), UserID: strings.TrimSpace(q.Get("user_id"))}
	return s.renderEmails(w, r, a, f, http.StatusOK, "")
}

// renderEmails renders the Emails page for the filters, with msg as its
// error (a refused Resend).
func (s *Server) renderEmails(w http.ResponseWriter, r *http.Request, a account.Actor, f emailFilter, status int, msg string) error {
	d, err := s.adminLayout(r, a, "Emails")
	if err != nil {
		return err
	}
	v := &emailsView{pageData: d, Base: s.orgPath(a.OrgSlug, "admin/emails"), Filter: f, Statuses: emailStatusOptions,
		Fields: fieldErrors{}, CanResend: canResend(&a)}
	eq := account.EmailQuery{Status: f.Status, Limit: emailsPageSize}
	if f.Status != "" && emailStatusLabels[account.EmailStatus(f.Status)] == "" {
		v.Fields.add("status", "Choose a status from the list.")
	}
	if f.UserID != "" {
		n, err := strconv.ParseInt(f.UserID, 10, 64)
		if err != nil || n <= 0 {
			v.Fields.add("user_id", "Enter a user ID: a whole number such as 42.")
		} else {
			id := account.UserID(n)
			eq.UserID = &id
		}
	}
	if len(v.Fields) > 0 {
		// A refusal (no permission to read any user) comes before a
		// complaint about the filters.
		if _, err := s.accounts.Emails(r.Context(), a, account.EmailQuery{Limit: 1}); err != nil {
			return err
		}
		v.Error = "Some filters are not valid."
		if msg != "" {
			v.Error = msg
		}
		return s.renderView(w, r, http.StatusUnprocessableEntity, "admin-emails", v)
	}
	vs, err := s.accounts.Emails(r.Context(), a, eq)
	switch c := account.ErrorCode(err); {
	case err == nil:
		v.Searched = true
	case c == account.CodeNotFound && eq.UserID != nil:
		// A user that is not there, or not visible to the actor: the same.
		v.Fields.add("user_id", "There is no user with this ID.")
		v.Error, status = "Some filters are not valid.", http.StatusUnprocessableEntity
	case c == account.CodeValidation:
		var body errorJSON
		status, body = publicError(err)
		v.Fields = detailsOf(body)
		v.Error = withDetails(body)
	default:
		return err
	}
	v.Emails = s.emailRows(a, vs)
	for _, e := range v.Emails {
		v.DevMailbox = v.DevMailbox || e.ShowBody
	}
	if v.DevMailbox {
		// The bodies hold live reset links.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
	}
	if msg != "" {
		v.Error = msg
	}
	return s.renderView(w, r, status, "admin-emails", v)
}

// emailResend serves POST /o/{org}/admin/emails/{id}/resend. The form says
// where it came from: "user" (with user_id) for a user's page, else the
// Emails page with its filters (filter_status, filter_user_id).
func (s *Server) emailResend(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		return &account.Error{Code: account.CodeNotFound, Message: "Not found."}
	}
	var userID account.UserID
	if r.PostFormValue("from") == "user" {
		if id, err := strconv.ParseInt(r.PostFormValue("user_id"), 10, 64); err == nil && id > 0 {
			userID = account.UserID(id)
		}
	}
	f := emailFilter{Status: r.PostFormValue("filter_status"), UserID: strings.TrimSpace(r.PostFormValue("filter_user_id"))}
	back := s.orgPath(a.OrgSlug, "admin/emails")
	if fv := f.values(); len(fv) > 0 {
		back += "?" + fv.Encode()
	}
	if userID != 0 {
		back = s.orgPath(a.OrgSlug, "admin/users/"+strconv.FormatInt(int64(userID), 10))
	}
	if _, err := s.accounts.ResendEmail(r.Context(), a, account.EmailID(n)); err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		retryAfter(w, st, err)
		msg := "The email was not sent again. " + withDetails(body)
		if userID != 0 {
			return s.userPageAgain(w, r, a, userID, nil, st, msg, nil)
		}
		return s.renderEmails(w, r, a, f, st, msg)
	}
	if userID != 0 {
		// The user's page under the right scope.
		if u, err := s.accounts.GetUser(r.Context(), a, userID); err == nil {
			back = s.userPathOf(a, u)
		}
	}
	s.redirectWithNotice(w, r, back, "Sent again.")
	return nil
}

// ---- A user's page ----

// subjectEmails fills the user page's recent emails. It is called by
// userView for every page about one user; without permission the page is
// shown without them.
func (s *Server) subjectEmails(r *http.Request, a account.Actor, v *userView) error {
	vs, err := s.accounts.RecentEmails(r.Context(), a, v.Subject.ID)
	if c := account.ErrorCode(err); c == account.CodeForbidden || c == account.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	v.Emails = s.emailRows(a, vs)
	for i := range v.Emails {
		v.Emails[i].ShowBody, v.Emails[i].Body = false, "" // bodies are read on the Emails page
	}
	v.EmailsLoaded = true
	return nil
}

// EmailsPath is the Emails page filtered to the user.
func (v *userView) EmailsPath() string {
	return "/o/" + url.PathEscape(v.Org.Slug) + "/admin/emails?user_id=" + strconv.FormatInt(int64(v.Subject.ID), 10)
}

// userSendReset serves POST /o/{org}/admin/users/{id}/password-reset-email:
// Send password reset email.
func (s *Server) userSendReset(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := pageUserID(r)
	if err != nil {
		return err
	}
	e, err := s.accounts.SendResetEmail(r.Context(), a, id)
	if err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		retryAfter(w, st, err)
		return s.userPageAgain(w, r, a, id, nil, st, "No reset email was sent. "+withDetails(body), nil)
	}
	u, err := s.accounts.GetUser(r.Context(), a, id)
	if err != nil {
		return err
	}
	s.redirectWithNotice(w, r, s.userPathOf(a, u), "A password reset email is on its way to "+e.To+".")
	return nil
}
