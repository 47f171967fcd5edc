package web

import (
	"crypto/subtle"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/password"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFiles embed.FS

func staticFS() fs.FS {
	f, _ := fs.Sub(staticFiles, "static")
	return f
}

var statusLabels = map[account.Status]string{
	account.StatusActive:             "Active",
	account.StatusInvited:            "Invited",
	account.StatusForcePasswordReset: "Force Password Reset",
	account.StatusDisabled:           "Disabled",
}

var funcs = template.FuncMap{
	"status": func(s account.Status) string { return statusLabels[s] },
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return "Never"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"join": strings.Join,
	// pathEscape quotes a value, such as a role name, for one segment of a path.
	"pathEscape": url.PathEscape,
}

// parseTemplates parses every page template (templates/*.html but the
// layout) with the layout, at start, so a broken template stops the server
// from starting rather than failing a request.
func parseTemplates() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// pageData is what every page template gets.
type pageData struct {
	Title    string
	Org      account.Org
	Actor    *account.Actor
	CSRF     string
	Error    string
	Notice   string
	Email    string
	Rules    []password.Rule
	Failed   map[string]bool
	User     account.User
	Sessions []sessionJSON
	Status   int
}

// render writes a page with the status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, d *pageData) error {
	d.CSRF = s.csrfToken(w, r)
	return s.execute(w, status, name, d)
}

// execute writes a parsed page with the status: the one place a page
// template meets the response.
func (s *Server) execute(w http.ResponseWriter, status int, name string, data any) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write([]byte(b.String()))
	return err
}

// page is the only place where a page handler's error becomes a response.
func (s *Server) page(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	st, body := publicError(err)
	s.logError(r, st, err)
	retryAfter(w, st, err)
	d := &pageData{Title: http.StatusText(st), Error: body.Message, Status: st}
	if err := s.render(w, r, st, "error", d); err != nil {
		s.log.Error("rendering the error page", "request_id", requestID(r.Context()), "err", err)
	}
}

// csrfToken returns the request's anti-forgery token, setting its cookie on
// first use. Forms echo it in a hidden field (a double-submit token); with
// http.CrossOriginProtection in front, a forged cross-site form fails twice.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if v := s.cookie(r, csrfCookie); len(v) >= 32 {
		return v
	}
	tok, _ := password.NewToken("")
	s.setCookie(w, csrfCookie, tok, 0)
	// Later reads in this request see the new cookie.
	r.AddCookie(&http.Cookie{Name: s.cookieName(csrfCookie), Value: tok})
	return tok
}

var errCSRF = &account.Error{Code: account.CodeForbidden, Message: "This form has expired. Go back, reload the page and try again."}

// csrf refuses a form post whose token does not match its cookie.
func (s *Server) csrf(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		cookie := s.cookie(r, csrfCookie)
		form := r.PostFormValue("csrf_token")
		if cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(form)) != 1 {
			return errCSRF
		}
		return h(w, r)
	}
}

// signedIn gives a page the signed-in Actor of this organization, or sends
// the browser to the sign-in page.
func (s *Server) signedIn(h func(http.ResponseWriter, *http.Request, account.Actor) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := s.accounts.Authenticate(r.Context(), account.Secret(s.cookie(r, sessionCookie)), client(r))
		if err != nil || a.OrgSlug != r.PathValue("org") {
			if account.ErrorCode(err) == account.CodeInternal && err != nil {
				return err
			}
			http.Redirect(w, r, s.orgPath(r.PathValue("org"), "login"), http.StatusSeeOther)
			return nil
		}
		return h(w, r, a)
	}
}

func (s *Server) orgPath(org, page string) string {
	return "/o/" + url.PathEscape(org) + "/" + page
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, s.orgPath(account.DefaultOrgSlug, "login"), http.StatusSeeOther)
	return nil
}

func (s *Server) org(r *http.Request) (account.Org, error) {
	return s.accounts.OrgBySlug(r.Context(), r.PathValue("org"))
}

// loginPage serves GET /o/{org}/login.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	o, err := s.org(r)
	if err != nil {
		return err
	}
	if a, err := s.accounts.Authenticate(r.Context(), account.Secret(s.cookie(r, sessionCookie)), client(r)); err == nil && a.OrgID == o.ID {
		http.Redirect(w, r, s.orgPath(o.Slug, ""), http.StatusSeeOther)
		return nil
	}
	d := &pageData{Title: "Sign in", Org: o}
	if r.URL.Query().Get("signed_out") == "1" {
		d.Notice = "You are signed out."
	}
	return s.render(w, r, http.StatusOK, "login", d)
}

// loginSubmit serves POST /o/{org}/login.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	o, err := s.org(r)
	if err != nil {
		return err
	}
	email := r.PostFormValue("email")
	res, err := s.accounts.Login(r.Context(), account.LoginInput{Org: o.Slug, Email: email,
		Password: account.Secret(r.PostFormValue("password")), Client: client(r)})
	if err != nil {
		st, body := publicError(err)
		if st >= 500 {
			return err
		}
		retryAfter(w, st, err)
		return s.render(w, r, st, "login", &pageData{Title: "Sign in", Org: o, Email: email, Error: body.Message})
	}
	if ch := res.Challenge; ch != nil {
		s.setCookie(w, challengeCookie, string(ch.Token), time.Until(ch.ExpiresAt))
		http.Redirect(w, r, s.orgPath(o.Slug, "update-password"), http.StatusSeeOther)
		return nil
	}
	s.setCookie(w, sessionCookie, string(res.Session.Token), s.ttl)
	http.Redirect(w, r, s.orgPath(o.Slug, ""), http.StatusSeeOther)
	return nil
}

// updatePasswordPage serves GET /o/{org}/update-password, the forced change
// after a temporary password.
func (s *Server) updatePasswordPage(w http.ResponseWriter, r *http.Request) error {
	o, u, err := s.accounts.ChallengeInfo(r.Context(), account.Secret(s.cookie(r, challengeCookie)))
	if err != nil || o.Slug != r.PathValue("org") {
		if account.ErrorCode(err) == account.CodeInternal && err != nil {
			return err
		}
		http.Redirect(w, r, s.orgPath(r.PathValue("org"), "login"), http.StatusSeeOther)
		return nil
	}
	rules, err := s.accounts.PasswordRules(r.Context(), o.Slug)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "update-password", &pageData{Title: "Update Password", Org: o, User: u, Rules: rules})
}

// updatePasswordSubmit serves POST /o/{org}/update-password.
func (s *Server) updatePasswordSubmit(w http.ResponseWriter, r *http.Request) error {
	tok := account.Secret(s.cookie(r, challengeCookie))
	o, u, err := s.accounts.ChallengeInfo(r.Context(), tok)
	if err != nil || o.Slug != r.PathValue("org") {
		if account.ErrorCode(err) == account.CodeInternal && err != nil {
			return err
		}
		http.Redirect(w, r, s.orgPath(r.PathValue("org"), "login"), http.StatusSeeOther)
		return nil
	}
	rules, err := s.accounts.PasswordRules(r.Context(), o.Slug)
	if err != nil {
		return err
	}
	d := &pageData{Title: "Update Password", Org: o, User: u, Rules: rules}
	pw, confirm := r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	if pw != confirm {
		d.Error = "The two passwords do not match."
		return s.render(w, r, http.StatusUnprocessableEntity, "update-password", d)
	}
	ns, err := s.accounts.CompleteNewPassword(r.Context(), account.NewPasswordInput{ChallengeToken: tok,
		NewPassword: account.Secret(pw), Client: client(r)})
	if err != nil {
		st, body := publicError(err)
		if st >= 500 {
			return err
		}
		d.Error = body.Message
		d.Failed = map[string]bool{}
		for _, v := range body.Details {
			d.Failed[v.Rule] = true
			if v.Rule == "not_reused" {
				d.Error = v.Message + "."
			}
		}
		retryAfter(w, st, err)
		return s.render(w, r, st, "update-password", d)
	}
	s.setCookie(w, challengeCookie, "", -1)
	s.setCookie(w, sessionCookie, string(ns.Token), s.ttl)
	http.Redirect(w, r, s.orgPath(o.Slug, "account")+"?updated=1", http.StatusSeeOther)
	return nil
}

// home serves GET /o/{org}/, the signed-in landing page.
func (s *Server) home(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	o, err := s.org(r)
	if err != nil {
		return err
	}
	u, err := s.accounts.Me(r.Context(), a)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "home", &pageData{Title: o.Name, Org: o, Actor: &a, User: u})
}

// accountData is what the account page shows.
func (s *Server) accountData(r *http.Request, a account.Actor) (*pageData, error) {
	o, err := s.org(r)
	if err != nil {
		return nil, err
	}
	u, err := s.accounts.Me(r.Context(), a)
	if err != nil {
		return nil, err
	}
	ss, err := s.accounts.MySessions(r.Context(), a)
	if err != nil {
		return nil, err
	}
	rules, err := s.accounts.PasswordRules(r.Context(), o.Slug)
	if err != nil {
		return nil, err
	}
	return &pageData{Title: "Your account", Org: o, Actor: &a, User: u, Sessions: toSessions(ss, a.SessionID), Rules: rules}, nil
}

// accountPage serves GET /o/{org}/account.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	d, err := s.accountData(r, a)
	if err != nil {
		return err
	}
	switch {
	case r.URL.Query().Get("updated") == "1":
		d.Notice = "Your password has been updated."
	case r.URL.Query().Get("signed_out_device") == "1":
		d.Notice = "That device is signed out."
	case r.URL.Query().Get("changed") == "1":
		d.Notice = "Your password has been changed. Your other devices were signed out."
	}
	return s.render(w, r, http.StatusOK, "account", d)
}

// signOutDevice serves POST /o/{org}/account/sessions/{id}/sign-out.
func (s *Server) signOutDevice(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &account.Error{Code: account.CodeNotFound, Message: "Not found."}
	}
	if err := s.accounts.EndMySession(r.Context(), a, account.SessionID(id)); err != nil {
		return err
	}
	if account.SessionID(id) == a.SessionID {
		s.setCookie(w, sessionCookie, "", -1)
		http.Redirect(w, r, s.orgPath(a.OrgSlug, "login")+"?signed_out=1", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, s.orgPath(a.OrgSlug, "account")+"?signed_out_device=1", http.StatusSeeOther)
	return nil
}

// logoutSubmit serves POST /o/{org}/logout.
func (s *Server) logoutSubmit(w http.ResponseWriter, r *http.Request) error {
	a, err := s.accounts.Authenticate(r.Context(), account.Secret(s.cookie(r, sessionCookie)), client(r))
	if err == nil {
		if err := s.accounts.Logout(r.Context(), a); err != nil {
			return err
		}
	} else if account.ErrorCode(err) == account.CodeInternal {
		return err
	}
	s.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, s.orgPath(r.PathValue("org"), "login")+"?signed_out=1", http.StatusSeeOther)
	return nil
}
