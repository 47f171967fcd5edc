package web

// The administration pages: the lists of staff and community users, a user's
// page, adding and deleting users, and the roles. Like every page handler,
// these translate a form into one service call and render its answer; the
// service decides who may do what, and its refusals (404, 403) reach the
// error page through the page adapter. Errors about what was typed are shown
// next to the form instead.

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/account"
)

// adminPageSize is the number of users a list page shows.
const adminPageSize = 25

// flashCookie carries a one-time notice ("Changes saved.") across the
// redirect that follows a successful form, so a reload does not repeat it.
const flashCookie = "latchkey_flash"

// userScope is the part of the user list a set of pages shows: staff under
// /o/{org}/admin/users, residents and businesses under /o/{org}/community/users.
type userScope struct {
	Community bool
	Path      string // below /o/{org}/
	Heading   string
	Caption   string
}

var (
	staffScope     = userScope{Path: "admin/users", Heading: "Users", Caption: "Staff users"}
	communityScope = userScope{Community: true, Path: "community/users", Heading: "Community users", Caption: "Community users (residents and businesses)"}
)

// scopeOf is the scope whose pages show users of kind k.
func scopeOf(k account.Kind) userScope {
	if k.Community() {
		return communityScope
	}
	return staffScope
}

// option is one <option> of a select.
type option struct{ Value, Label string }

var statusOptions = []option{
	{"", "Any"},
	{string(account.StatusActive), statusLabels[account.StatusActive]},
	{string(account.StatusInvited), statusLabels[account.StatusInvited]},
	{string(account.StatusForcePasswordReset), statusLabels[account.StatusForcePasswordReset]},
	{string(account.StatusDisabled), statusLabels[account.StatusDisabled]},
}

var communityKinds = []option{{string(account.KindResident), "Resident"}, {string(account.KindBusiness), "Business"}}

var kindFilterOptions = append([]option{{"", "Any"}}, communityKinds...)

// permGroup is a fieldset of permission checkboxes on the Roles page.
type permGroup struct {
	Legend string
	Perms  []account.Permission
}

var permGroups = func() []permGroup {
	gs := []permGroup{{Legend: "Staff users"}, {Legend: "Community users"}, {Legend: "Organization"}}
	for _, p := range account.AllPermissions {
		switch {
		case strings.HasPrefix(string(p), "users."):
			gs[0].Perms = append(gs[0].Perms, p)
		case strings.HasPrefix(string(p), "community."):
			gs[1].Perms = append(gs[1].Perms, p)
		default:
			gs[2].Perms = append(gs[2].Perms, p)
		}
	}
	return gs
}()

// view is the data of an administration page: its own fields around the
// pageData that the layout reads.
type view interface{ layoutData() *pageData }

func (d *pageData) layoutData() *pageData { return d }

// renderView writes an administration page, with the pending notice, if any.
func (s *Server) renderView(w http.ResponseWriter, r *http.Request, status int, name string, v view) error {
	d := v.layoutData()
	if n := s.takeFlash(w, r); d.Notice == "" {
		d.Notice = n
	}
	d.CSRF = s.csrfToken(w, r)
	return s.execute(w, status, name, v)
}

// redirectWithNotice sends the browser to path, which then shows notice once.
func (s *Server) redirectWithNotice(w http.ResponseWriter, r *http.Request, path, notice string) {
	s.setCookie(w, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(notice)), time.Minute)
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	v := s.cookie(r, flashCookie)
	if v == "" {
		return ""
	}
	s.setCookie(w, flashCookie, "", -1)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) > 512 || !utf8.Valid(b) {
		return ""
	}
	return string(b)
}

// adminLayout is the pageData of an administration page of the actor's
// organization.
func (s *Server) adminLayout(r *http.Request, a account.Actor, title string) (*pageData, error) {
	o, err := s.org(r)
	if err != nil {
		return nil, err
	}
	return &pageData{Title: title, Org: o, Actor: &a}, nil
}

// formError decides how a form's failed service call is shown: nil when it
// goes next to the form (what was typed, or a refusal of this change), or
// the error itself for the error page (a user that is not there, a failure).
func formError(err error) (status int, body errorJSON, fatal error) {
	st, body := publicError(err)
	if st == http.StatusNotFound || st >= 500 && st != http.StatusServiceUnavailable {
		return st, body, err
	}
	return st, body, nil
}

// fieldErrors are the messages shown next to the fields of a form, by field
// name, and a message for the form as a whole.
type fieldErrors map[string][]string

func (f fieldErrors) add(field, msg string) { f[field] = append(f[field], msg) }

// detailsOf files an error's details under their fields; password rules go
// under the password field, a taken email under the email.
func detailsOf(body errorJSON) fieldErrors {
	f := fieldErrors{}
	if body.Code == account.CodeEmailTaken && len(body.Details) == 0 {
		f.add("email", body.Message)
	}
	for _, d := range body.Details {
		switch {
		case d.Rule != "":
			f.add("password", d.Message)
		case d.Field == "temporary_password":
			f.add("password", d.Message)
		case d.Field != "":
			f.add(d.Field, d.Message)
		}
	}
	return f
}

// withDetails is the message and its details, as one sentence list.
func withDetails(body errorJSON) string {
	msg := body.Message
	for _, d := range body.Details {
		if d.Message != "" {
			msg += " " + strings.TrimSuffix(d.Message, ".") + "."
		}
	}
	return msg
}

// checkSpaces refuses a password with surrounding white space: a classic
// cause of "it still doesn't work" (PRODUCT.md, flow 1).
func checkSpaces(pw string, f fieldErrors) {
	if pw != "" && (strings.TrimLeftFunc(pw, unicode.IsSpace) != pw || strings.TrimRightFunc(pw, unicode.IsSpace) != pw) {
		f.add("password", "The password starts or ends with a space. Remove the spaces at the start and end; passwords are case sensitive.")
	}
}

// pageUserID parses {id}; anything but a positive integer is a user that
// does not exist.
func pageUserID(r *http.Request) (account.UserID, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &account.Error{Code: account.CodeNotFound, Message: "Not found."}
	}
	return account.UserID(id), nil
}

// roleNames lists the organization's role names for a select, or nil when
// the actor may not list roles.
func (s *Server) roleNames(r *http.Request, a account.Actor) ([]string, error) {
	rs, err := s.accounts.Roles(r.Context(), a)
	if account.ErrorCode(err) == account.CodeForbidden {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(rs))
	for _, r := range rs {
		names = append(names, r.Name)
	}
	return names, nil
}

// ---- The user lists ----

// userFilter is the search of a user list, as the query string carries it.
type userFilter struct{ Q, Name, Email, ID, Role, Status, Kind string }

func filterOf(q url.Values) userFilter {
	return userFilter{Q: q.Get("q"), Name: q.Get("name"), Email: q.Get("email"), ID: q.Get("id"),
		Role: q.Get("role"), Status: q.Get("status"), Kind: q.Get("kind")}
}

// Advanced reports whether an advanced filter is set, so that the details
// element holding them opens.
func (f userFilter) Advanced() bool {
	return f.Name != "" || f.Email != "" || f.ID != "" || f.Role != "" || f.Status != "" || f.Kind != ""
}

// Any reports whether any filter is set.
func (f userFilter) Any() bool { return f.Q != "" || f.Advanced() }

func (f userFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "name": f.Name, "email": f.Email, "id": f.ID,
		"role": f.Role, "status": f.Status, "kind": f.Kind} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

type usersView struct {
	*pageData
	Scope    userScope
	Base     string // the list's path
	Filter   userFilter
	Roles    []string // nil when the actor may not list roles
	Statuses []option
	Kinds    []option
	Users    []account.User
	NextURL  string
	FirstURL string
}

// usersPage serves GET /o/{org}/admin/users and /o/{org}/community/users.
func (s *Server) usersPage(sc userScope) func(http.ResponseWriter, *http.Request, account.Actor) error {
	return func(w http.ResponseWriter, r *http.Request, a account.Actor) error {
		d, err := s.adminLayout(r, a, sc.Heading)
		if err != nil {
			return err
		}
		q := r.URL.Query()
		v := &usersView{pageData: d, Scope: sc, Base: s.orgPath(a.OrgSlug, sc.Path), Filter: filterOf(q),
			Statuses: statusOptions}
		if sc.Community {
			v.Kinds = kindFilterOptions
		}
		f := v.Filter
		page, err := s.accounts.ListUsers(r.Context(), a, account.ListUsersInput{Q: f.Q, Name: f.Name, Email: f.Email,
			ID: f.ID, Role: f.Role, Status: f.Status, Kind: f.Kind, Staff: !sc.Community, Community: sc.Community,
			Limit: adminPageSize, Cursor: q.Get("cursor")})
		status := http.StatusOK
		if err != nil {
			// A bad filter or cursor is shown on the page; anything else
			// (no permission to list) is the error page.
			if c := account.ErrorCode(err); c != account.CodeValidation && c != account.CodeInvalidCursor {
				return err
			}
			var body errorJSON
			status, body = publicError(err)
			v.Error = withDetails(body)
		}
		v.Users = page.Users
		if page.NextCursor != "" {
			nv := f.values()
			nv.Set("cursor", page.NextCursor)
			v.NextURL = v.Base + "?" + nv.Encode()
		}
		if q.Get("cursor") != "" {
			v.FirstURL = v.Base
			if fv := f.values(); len(fv) > 0 {
				v.FirstURL += "?" + fv.Encode()
			}
		}
		if v.Roles, err = s.roleNames(r, a); err != nil {
			return err
		}
		return s.renderView(w, r, status, "admin-users", v)
	}
}

// ---- A user's page, adding and deleting ----

// userForm is what the edit and add forms hold.
type userForm struct {
	Name, Email, Kind string
	Roles             map[string]bool
	// Multi shows a checkbox per role instead of a select: the user holds
	// several roles.
	Multi         bool
	RequireChange bool
	// SendWelcome is Add User's "Send welcome email" checkbox: checked by
	// default, and when a form without it (send_welcome_present) is posted.
	SendWelcome bool
}

func (f userForm) roleList() []string {
	out := []string{}
	for r, on := range f.Roles {
		if on && r != "" {
			out = append(out, r)
		}
	}
	return out
}

// RoleNames are the chosen roles, sorted, for the Add User confirmation.
func (f userForm) RoleNames() []string {
	out := f.roleList()
	sort.Strings(out)
	return out
}

func formOf(u account.User) userForm {
	f := userForm{Name: u.Name, Email: u.Email, Kind: string(u.Kind), Roles: map[string]bool{},
		Multi: len(u.Roles) > 1, RequireChange: u.RequirePasswordChange}
	for _, r := range u.Roles {
		f.Roles[r] = true
	}
	return f
}

func postedForm(r *http.Request) userForm {
	f := userForm{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Kind: r.PostFormValue("kind"),
		Roles: map[string]bool{}, Multi: r.PostFormValue("roles_multi") == "1",
		RequireChange: r.PostFormValue("require_password_change") != "",
		SendWelcome:   r.PostFormValue("send_welcome") != "" || r.PostFormValue("send_welcome_present") == ""}
	for _, v := range r.PostForm["roles"] {
		if v != "" {
			f.Roles[v] = true
		}
	}
	return f
}

type userView struct {
	*pageData
	Scope        userScope
	Base         string // the list's path
	UserPath     string // the user's page
	Subject      account.User
	Locked       bool
	Roles        []string // the role options
	Kinds        []option
	Form         userForm
	Fields       fieldErrors
	TempPassword string
	TempExpires  *time.Time
	// Emails are the user's recent emails (pages_admin_emails.go);
	// EmailsLoaded is false when the actor may not see them.
	Emails       []emailRow
	EmailsLoaded bool
}

// userView builds the view of the user page (or its delete confirmation)
// for u, with the role options.
func (s *Server) userView(r *http.Request, a account.Actor, u account.User) (*userView, error) {
	d, err := s.adminLayout(r, a, u.Name)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(u.Kind)
	v := &userView{pageData: d, Scope: sc, Base: s.orgPath(a.OrgSlug, sc.Path),
		UserPath: s.orgPath(a.OrgSlug, sc.Path+"/"+strconv.FormatInt(int64(u.ID), 10)),
		Subject:  u, Locked: u.LockedUntil != nil && u.LockedUntil.After(time.Now()), Form: formOf(u), Fields: fieldErrors{}}
	if v.Roles, err = s.roleNames(r, a); err != nil {
		return nil, err
	}
	if v.Roles == nil {
		v.Roles = u.Roles // not allowed to list roles: show what the user holds
	}
	for _, role := range u.Roles {
		v.Form.Multi = v.Form.Multi || !contains(v.Roles, role)
	}
	if err := s.subjectSessions(r, a, v); err != nil { // pages_admin_credentials.go
		return nil, err
	}
	if err := s.subjectEmails(r, a, v); err != nil { // pages_admin_emails.go
		return nil, err
	}
	return v, nil
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// userPage serves GET /o/{org}/admin/users/{id} (and the same under
// community/users). A user of the other scope is sent to its own path.
func (s *Server) userPage(sc userScope) func(http.ResponseWriter, *http.Request, account.Actor) error {
	return func(w http.ResponseWriter, r *http.Request, a account.Actor) error {
		id, err := pageUserID(r)
		if err != nil {
			return err
		}
		u, err := s.accounts.GetUser(r.Context(), a, id)
		if err != nil {
			return err
		}
		if scopeOf(u.Kind) != sc {
			http.Redirect(w, r, s.orgPath(a.OrgSlug, scopeOf(u.Kind).Path+"/"+r.PathValue("id")), http.StatusSeeOther)
			return nil
		}
		v, err := s.userView(r, a, u)
		if err != nil {
			return err
		}
		return s.renderView(w, r, http.StatusOK, "admin-user", v)
	}
}

// userPageAgain re-renders the user page after a refused change, keeping
// what was typed (but never the password).
func (s *Server) userPageAgain(w http.ResponseWriter, r *http.Request, a account.Actor, id account.UserID,
	form *userForm, status int, msg string, fields fieldErrors) error {
	u, err := s.accounts.GetUser(r.Context(), a, id)
	if err != nil {
		return err
	}
	v, err := s.userView(r, a, u)
	if err != nil {
		return err
	}
	if form != nil {
		v.Form = *form
	}
	v.Error, v.Fields = msg, fields
	return s.renderView(w, r, status, "admin-user", v)
}

// userSave serves POST /o/{org}/admin/users/{id}: the edit form.
func (s *Server) userSave(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := pageUserID(r)
	if err != nil {
		return err
	}
	form := postedForm(r)
	pw := r.PostFormValue("password")
	fields := fieldErrors{}
	checkSpaces(pw, fields)
	if len(fields) > 0 {
		return s.userPageAgain(w, r, a, id, &form, http.StatusUnprocessableEntity, "The changes were not saved.", fields)
	}
	p := account.UserPatch{Name: &form.Name, Email: &form.Email, RequirePasswordChange: &form.RequireChange}
	if r.PostFormValue("roles_present") == "1" {
		roles := form.roleList()
		p.Roles = &roles
	}
	if pw != "" {
		sec := account.Secret(pw)
		p.Password = &sec
	}
	u, err := s.accounts.UpdateUser(r.Context(), a, id, p)
	if err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		retryAfter(w, st, err)
		return s.userPageAgain(w, r, a, id, &form, st, "The changes were not saved. "+body.Message, detailsOf(body))
	}
	s.redirectWithNotice(w, r, s.orgPath(a.OrgSlug, scopeOf(u.Kind).Path+"/"+strconv.FormatInt(int64(u.ID), 10)), "Changes saved.")
	return nil
}

// userStatus serves POST /o/{org}/admin/users/{id}/status: Disable, Enable.
func (s *Server) userStatus(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := pageUserID(r)
	if err != nil {
		return err
	}
	st := account.Status(r.PostFormValue("status"))
	u, err := s.accounts.UpdateUser(r.Context(), a, id, account.UserPatch{Status: &st})
	if err != nil {
		code, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		retryAfter(w, code, err)
		return s.userPageAgain(w, r, a, id, nil, code, withDetails(body), nil)
	}
	notice := u.Name + " is enabled."
	if u.Status == account.StatusDisabled {
		notice = u.Name + " is disabled and cannot sign in."
	}
	s.redirectWithNotice(w, r, s.orgPath(a.OrgSlug, scopeOf(u.Kind).Path+"/"+strconv.FormatInt(int64(u.ID), 10)), notice)
	return nil
}

// userDeletePage serves GET /o/{org}/admin/users/{id}/delete, the question.
func (s *Server) userDeletePage(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := pageUserID(r)
	if err != nil {
		return err
	}
	u, err := s.accounts.GetUser(r.Context(), a, id)
	if err != nil {
		return err
	}
	v, err := s.userView(r, a, u)
	if err != nil {
		return err
	}
	v.Title = "Delete " + u.Name
	return s.renderView(w, r, http.StatusOK, "admin-user-delete", v)
}

// userDelete serves POST /o/{org}/admin/users/{id}/delete.
func (s *Server) userDelete(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := pageUserID(r)
	if err != nil {
		return err
	}
	u, err := s.accounts.GetUser(r.Context(), a, id)
	if err != nil {
		return err
	}
	if err := s.accounts.DeleteUser(r.Context(), a, id); err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		v, verr := s.userView(r, a, u)
		if verr != nil {
			return verr
		}
		v.Title, v.Error = "Delete "+u.Name, body.Message
		retryAfter(w, st, err)
		return s.renderView(w, r, st, "admin-user-delete", v)
	}
	s.redirectWithNotice(w, r, s.orgPath(a.OrgSlug, scopeOf(u.Kind).Path), u.Name+" was deleted.")
	return nil
}

// newUserView is the Add User form of a scope.
func (s *Server) newUserView(r *http.Request, a account.Actor, sc userScope) (*userView, error) {
	d, err := s.adminLayout(r, a, "Add User")
	if err != nil {
		return nil, err
	}
	v := &userView{pageData: d, Scope: sc, Base: s.orgPath(a.OrgSlug, sc.Path), Fields: fieldErrors{},
		Form: userForm{Roles: map[string]bool{}, SendWelcome: true}}
	if sc.Community {
		v.Kinds = communityKinds
		v.Form.Kind = string(account.KindResident)
	}
	if v.Roles, err = s.roleNames(r, a); err != nil {
		return nil, err
	}
	if contains(v.Roles, account.RoleUser) {
		v.Form.Roles[account.RoleUser] = true
	}
	return v, nil
}

// newUserPage serves GET /o/{org}/admin/users/new (and community/users/new).
func (s *Server) newUserPage(sc userScope) func(http.ResponseWriter, *http.Request, account.Actor) error {
	return func(w http.ResponseWriter, r *http.Request, a account.Actor) error {
		v, err := s.newUserView(r, a, sc)
		if err != nil {
			return err
		}
		return s.renderView(w, r, http.StatusOK, "admin-user-new", v)
	}
}

// newUserSubmit serves POST /o/{org}/admin/users/new: Add User, or Create
// User and Set Temporary Password, which first asks "are you sure?" (a page
// carrying the values, never a password, in hidden fields; action
// "temporary"), then creates the user on Confirm (action "temporary_confirm")
// and shows the password once. Action "back" returns to the filled-in form.
func (s *Server) newUserSubmit(sc userScope) func(http.ResponseWriter, *http.Request, account.Actor) error {
	return func(w http.ResponseWriter, r *http.Request, a account.Actor) error {
		form := postedForm(r)
		pw := r.PostFormValue("password")
		action := r.PostFormValue("action")
		temporary := action == "temporary" || action == "temporary_confirm"
		again := func(st int, msg string, fields fieldErrors) error {
			v, err := s.newUserView(r, a, sc)
			if err != nil {
				return err
			}
			v.Form, v.Error, v.Fields = form, msg, fields
			return s.renderView(w, r, st, "admin-user-new", v)
		}
		fields := fieldErrors{}
		kind := account.KindStaff
		if sc.Community {
			kind = account.Kind(form.Kind)
			if !kind.Community() {
				fields.add("kind", "Choose Resident or Business.")
			}
		}
		checkSpaces(pw, fields)
		if temporary && pw != "" {
			fields.add("password", "Leave the password empty to set a temporary password.")
		}
		if len(fields) > 0 {
			return again(http.StatusUnprocessableEntity, "The user was not created.", fields)
		}
		switch action {
		case "back":
			return again(http.StatusOK, "", nil)
		case "temporary":
			v, err := s.newUserView(r, a, sc)
			if err != nil {
				return err
			}
			v.Title, v.Form = "Create User and Set Temporary Password", form
			return s.renderView(w, r, http.StatusOK, "admin-user-new-confirm", v)
		}
		// Without a password the user is invited, and the welcome email
		// (unless unchecked) brings the link to choose one.
		welcome := form.SendWelcome && pw == "" && !temporary
		res, err := s.accounts.CreateUser(r.Context(), a, account.CreateUserInput{Email: form.Email, Name: form.Name,
			Kind: kind, Roles: form.roleList(), Password: account.Secret(pw), TemporaryPassword: temporary,
			SendWelcome: &welcome})
		if err != nil {
			st, body, fatal := formError(err)
			if fatal != nil {
				return fatal
			}
			retryAfter(w, st, err)
			return again(st, "The user was not created. "+body.Message, detailsOf(body))
		}
		u := res.User
		if res.TemporaryPassword == "" {
			notice := "User created."
			if welcome && u.Status == account.StatusInvited {
				notice = "User created. A welcome email is on its way to " + u.Email + "."
			}
			s.redirectWithNotice(w, r, s.orgPath(a.OrgSlug, scopeOf(u.Kind).Path+"/"+strconv.FormatInt(int64(u.ID), 10)), notice)
			return nil
		}
		// Shown in this answer only: never in a URL, a cookie or a later page.
		v, err := s.userView(r, a, u)
		if err != nil {
			return err
		}
		v.Title = "User created"
		v.TempPassword, v.TempExpires = string(res.TemporaryPassword), res.ExpiresAt
		w.Header().Set("Cache-Control", "no-store")
		return s.renderView(w, r, http.StatusOK, "admin-user-created", v)
	}
}

// ---- Roles ----

// roleForm is one role on the Roles page, or the Create role form.
type roleForm struct {
	Index    int
	Name     string // the role's name, in its URL
	EditName string // the Name field
	Builtin  bool
	// Locked: Administrator holds every permission, always.
	Locked bool
	Perms  map[account.Permission]bool
	List   []string
	Fields fieldErrors
}

type rolesView struct {
	*pageData
	Roles  []roleForm
	New    roleForm
	Groups []permGroup
}

func postedPerms(r *http.Request) map[account.Permission]bool {
	m := map[account.Permission]bool{}
	for _, p := range r.PostForm["permissions"] {
		m[account.Permission(p)] = true
	}
	return m
}

func permList(m map[account.Permission]bool) []account.Permission {
	out := []account.Permission{}
	for _, p := range account.AllPermissions {
		if m[p] {
			out = append(out, p)
		}
	}
	for p, on := range m { // unknown ones, so that the service names them
		if on && !account.ValidPermission(p) {
			out = append(out, p)
		}
	}
	return out
}

// rolesPageWith renders the Roles page; edited, when set, replaces the form
// of the role of that name (or the Create role form for "").
func (s *Server) rolesPageWith(w http.ResponseWriter, r *http.Request, a account.Actor, status int, msg string, edited *roleForm) error {
	rs, err := s.accounts.Roles(r.Context(), a)
	if err != nil {
		return err
	}
	d, err := s.adminLayout(r, a, "Roles")
	if err != nil {
		return err
	}
	d.Error = msg
	v := &rolesView{pageData: d, Groups: permGroups, New: roleForm{Perms: map[account.Permission]bool{}, Fields: fieldErrors{}}}
	for i, role := range rs {
		f := roleForm{Index: i, Name: role.Name, EditName: role.Name, Builtin: role.Builtin,
			Locked: role.Name == account.RoleAdministrator && role.Builtin, Perms: map[account.Permission]bool{}, Fields: fieldErrors{}}
		for _, p := range role.Permissions {
			f.Perms[p] = true
		}
		for _, p := range permList(f.Perms) {
			f.List = append(f.List, string(p))
		}
		if edited != nil && edited.Name == role.Name {
			f.EditName, f.Perms, f.Fields = edited.EditName, edited.Perms, edited.Fields
		}
		v.Roles = append(v.Roles, f)
	}
	if edited != nil && edited.Name == "" {
		v.New = *edited
	}
	return s.renderView(w, r, status, "admin-roles", v)
}

// rolesPage serves GET /o/{org}/admin/roles.
func (s *Server) rolesPage(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	return s.rolesPageWith(w, r, a, http.StatusOK, "", nil)
}

func (s *Server) rolesPath(a account.Actor) string { return s.orgPath(a.OrgSlug, "admin/roles") }

// roleCreate serves POST /o/{org}/admin/roles: Create role.
func (s *Server) roleCreate(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	f := roleForm{EditName: r.PostFormValue("name"), Perms: postedPerms(r)}
	role, err := s.accounts.CreateRole(r.Context(), a, f.EditName, permList(f.Perms))
	if err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		f.Fields = detailsOf(body)
		retryAfter(w, st, err)
		return s.rolesPageWith(w, r, a, st, "The role was not created. "+body.Message, &f)
	}
	s.redirectWithNotice(w, r, s.rolesPath(a), "Role "+role.Name+" created.")
	return nil
}

// roleSave serves POST /o/{org}/admin/roles/{name}: rename, permissions.
func (s *Server) roleSave(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	name := r.PathValue("name")
	f := roleForm{Name: name, EditName: name, Perms: postedPerms(r)}
	p := account.RolePatch{}
	if _, ok := r.PostForm["name"]; ok {
		f.EditName = r.PostFormValue("name")
		p.Name = &f.EditName
	}
	perms := permList(f.Perms)
	p.Permissions = &perms
	role, err := s.accounts.UpdateRole(r.Context(), a, name, p)
	if err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		f.Fields = detailsOf(body)
		retryAfter(w, st, err)
		return s.rolesPageWith(w, r, a, st, "Role "+name+" was not saved. "+body.Message, &f)
	}
	s.redirectWithNotice(w, r, s.rolesPath(a), "Role "+role.Name+" saved.")
	return nil
}

// roleDelete serves POST /o/{org}/admin/roles/{name}/delete.
func (s *Server) roleDelete(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	name := r.PathValue("name")
	if err := s.accounts.DeleteRole(r.Context(), a, name); err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		retryAfter(w, st, err)
		return s.rolesPageWith(w, r, a, st, "Role "+name+" was not deleted. "+body.Message, nil)
	}
	s.redirectWithNotice(w, r, s.rolesPath(a), "Role "+name+" deleted.")
	return nil
}
