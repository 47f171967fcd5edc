package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey/internal/account"
)

type userListResponse struct {
	Users      []userJSON `json:"users"`
	NextCursor *string    `json:"next_cursor"`
}

// apiListUsers serves GET /api/v1/users.
func (s *Server) apiListUsers(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	q := r.URL.Query()
	in := account.ListUsersInput{Q: q.Get("q"), ID: q.Get("id"), Email: q.Get("email"), Name: q.Get("name"),
		Role: q.Get("role"), Status: q.Get("status"), Kind: q.Get("kind"), Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return &account.Error{Code: account.CodeValidation, Message: "Some search values are not valid.",
				Details: []account.Detail{{Field: "limit", Message: "Must be between 1 and 200."}}}
		}
		in.Limit = n
	}
	page, err := s.accounts.ListUsers(r.Context(), a, in)
	if err != nil {
		return err
	}
	out := userListResponse{Users: make([]userJSON, 0, len(page.Users))}
	for _, u := range page.Users {
		out.Users = append(out.Users, toUser(u))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return encode(w, http.StatusOK, out)
}

// userID parses {id}; anything but a positive integer is a user that does not exist.
func userID(r *http.Request) (account.UserID, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &account.Error{Code: account.CodeNotFound, Message: "Not found."}
	}
	return account.UserID(id), nil
}

// The User object's fields that exist but may not be written.
var readOnlyUserFields = map[string]bool{
	"id": true, "failed_logins": true, "locked_until": true, "created_at": true, "updated_at": true,
	"last_login_at": true, "password_changed_at": true, "recent_emails": true,
}

// checkFields refuses read-only fields (400 read_only_field) before the
// strict decode refuses unknown ones.
func checkFields(w http.ResponseWriter, r *http.Request, readOnly map[string]bool, into any) error {
	var raw map[string]json.RawMessage
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	body, err := readAll(r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &raw); err == nil {
		for k := range raw {
			if readOnly[k] {
				return &account.Error{Code: account.CodeReadOnlyField, Message: "Field \"" + k + "\" cannot be written.",
					Details: []account.Detail{{Field: k, Message: "read-only field"}}}
			}
		}
	}
	return decodeBytes(body, into)
}

type createUserRequest struct {
	Email             string             `json:"email"`
	Name              string             `json:"name"`
	Kind              account.Kind       `json:"kind"`
	Roles             []string           `json:"roles"`
	AuthSource        account.AuthSource `json:"auth_source"`
	Password          string             `json:"password"`
	TemporaryPassword bool               `json:"temporary_password"`
	SendWelcome       *bool              `json:"send_welcome"`
}

type createUserResponse struct {
	User              userJSON `json:"user"`
	TemporaryPassword string   `json:"temporary_password,omitempty"`
	ExpiresAt         *string  `json:"expires_at,omitempty"`
}

// apiCreateUser serves POST /api/v1/users.
func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	var req createUserRequest
	if err := checkFields(w, r, readOnlyUserFields, &req); err != nil {
		return err
	}
	res, err := s.accounts.CreateUser(r.Context(), a, account.CreateUserInput{Email: req.Email, Name: req.Name,
		Kind: req.Kind, Roles: req.Roles, AuthSource: req.AuthSource, Password: account.Secret(req.Password),
		TemporaryPassword: req.TemporaryPassword, SendWelcome: req.SendWelcome})
	if err != nil {
		return err
	}
	return encode(w, http.StatusCreated, createUserResponse{User: toUser(res.User),
		TemporaryPassword: string(res.TemporaryPassword), ExpiresAt: rfc3339p(res.ExpiresAt)})
}

// apiGetUser serves GET /api/v1/users/{id}.
func (s *Server) apiGetUser(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	u, err := s.accounts.GetUser(r.Context(), a, id)
	if err != nil {
		return err
	}
	emails, err := s.accounts.RecentEmails(r.Context(), a, id)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, userDetailJSON{userJSON: toUser(u), RecentEmails: toEmails(emails)})
}

// userDetailJSON is a user with what the "why can't they sign in" view needs.
type userDetailJSON struct {
	userJSON
	RecentEmails []emailJSON `json:"recent_emails"`
}

type updateUserRequest struct {
	Name                  *string             `json:"name"`
	Email                 *string             `json:"email"`
	Roles                 *[]string           `json:"roles"`
	Status                *account.Status     `json:"status"`
	AuthSource            *account.AuthSource `json:"auth_source"`
	Password              *string             `json:"password"`
	RequirePasswordChange *bool               `json:"require_password_change"`
	Reason                *string             `json:"reason"`
}

var readOnlyPatchFields = func() map[string]bool {
	m := map[string]bool{"kind": true}
	for k := range readOnlyUserFields {
		m[k] = true
	}
	return m
}()

// apiUpdateUser serves PATCH /api/v1/users/{id}.
func (s *Server) apiUpdateUser(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	var req updateUserRequest
	if err := checkFields(w, r, readOnlyPatchFields, &req); err != nil {
		return err
	}
	p := account.UserPatch{Name: req.Name, Email: req.Email, Roles: req.Roles, Status: req.Status,
		AuthSource: req.AuthSource, RequirePasswordChange: req.RequirePasswordChange, Reason: req.Reason}
	if req.Password != nil {
		pw := account.Secret(*req.Password)
		p.Password = &pw
	}
	u, err := s.accounts.UpdateUser(r.Context(), a, id, p)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, toUser(u))
}

// apiDeleteUser serves DELETE /api/v1/users/{id}.
func (s *Server) apiDeleteUser(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	if err := s.accounts.DeleteUser(r.Context(), a, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type roleJSON struct {
	Name        string               `json:"name"`
	Permissions []account.Permission `json:"permissions"`
	Builtin     bool                 `json:"builtin"`
}

func toRole(r account.Role) roleJSON {
	ps := r.Permissions
	if ps == nil {
		ps = []account.Permission{}
	}
	return roleJSON{Name: r.Name, Permissions: ps, Builtin: r.Builtin}
}

// apiListRoles serves GET /api/v1/roles.
func (s *Server) apiListRoles(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	rs, err := s.accounts.Roles(r.Context(), a)
	if err != nil {
		return err
	}
	out := make([]roleJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, toRole(r))
	}
	return encode(w, http.StatusOK, map[string]any{"roles": out, "permissions": account.AllPermissions})
}

type roleRequest struct {
	Name        *string               `json:"name"`
	Permissions *[]account.Permission `json:"permissions"`
}

// apiCreateRole serves POST /api/v1/roles.
func (s *Server) apiCreateRole(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	var req roleRequest
	if err := checkFields(w, r, map[string]bool{"builtin": true}, &req); err != nil {
		return err
	}
	name, perms := "", []account.Permission{}
	if req.Name != nil {
		name = *req.Name
	}
	if req.Permissions != nil {
		perms = *req.Permissions
	}
	role, err := s.accounts.CreateRole(r.Context(), a, name, perms)
	if err != nil {
		return err
	}
	return encode(w, http.StatusCreated, toRole(role))
}

// apiUpdateRole serves PATCH /api/v1/roles/{name}.
func (s *Server) apiUpdateRole(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	var req roleRequest
	if err := checkFields(w, r, map[string]bool{"builtin": true}, &req); err != nil {
		return err
	}
	role, err := s.accounts.UpdateRole(r.Context(), a, r.PathValue("name"), account.RolePatch{Name: req.Name, Permissions: req.Permissions})
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, toRole(role))
}

// apiDeleteRole serves DELETE /api/v1/roles/{name}.
func (s *Server) apiDeleteRole(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	if err := s.accounts.DeleteRole(r.Context(), a, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
