package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

type reasonRequest struct {
	Reason string `json:"reason"`
}

// decodeOptional decodes a JSON body that may be absent altogether.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength == 0 && r.Header.Get("Transfer-Encoding") == "" {
		return nil
	}
	return decode(w, r, v)
}

type tempPasswordResponse struct {
	TemporaryPassword string   `json:"temporary_password"`
	ExpiresAt         string   `json:"expires_at"`
	User              userJSON `json:"user"`
}

// apiTemporaryPassword serves POST /api/v1/users/{id}/temporary-password.
func (s *Server) apiTemporaryPassword(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	var req reasonRequest
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	tp, err := s.accounts.IssueTemporaryPassword(r.Context(), a, id, req.Reason)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, tempPasswordResponse{TemporaryPassword: string(tp.Password),
		ExpiresAt: rfc3339(tp.ExpiresAt), User: toUser(tp.User)})
}

// apiUnlock serves POST /api/v1/users/{id}/unlock.
func (s *Server) apiUnlock(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	var req reasonRequest
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	u, err := s.accounts.Unlock(r.Context(), a, id, req.Reason)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, toUser(u))
}

// apiUserSessions serves GET /api/v1/users/{id}/sessions.
func (s *Server) apiUserSessions(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	ss, err := s.accounts.UserSessions(r.Context(), a, id)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, map[string]any{"sessions": toSessions(ss, a.SessionID)})
}

// apiRevokeUserSessions serves DELETE /api/v1/users/{id}/sessions.
func (s *Server) apiRevokeUserSessions(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	if err := s.accounts.RevokeUserSessions(r.Context(), a, id, r.URL.Query().Get("reason")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type auditEventJSON struct {
	ID        int64          `json:"id"`
	At        string         `json:"at"`
	Action    account.Action `json:"action"`
	ActorID   *int64         `json:"actor_id"`
	TargetID  *int64         `json:"target_id"`
	IP        string         `json:"ip"`
	UserAgent string         `json:"user_agent"`
	Outcome   string         `json:"outcome"`
	Details   map[string]any `json:"details"`
}

func idp(id *account.UserID) *int64 {
	if id == nil {
		return nil
	}
	v := int64(*id)
	return &v
}

func toAuditEvent(e account.AuditEvent) auditEventJSON {
	d := e.Details
	if d == nil {
		d = map[string]any{}
	}
	return auditEventJSON{ID: e.ID, At: rfc3339(e.At), Action: e.Action, ActorID: idp(e.ActorID), TargetID: idp(e.TargetID),
		IP: e.IP, UserAgent: e.UserAgent, Outcome: string(e.Outcome), Details: d}
}

// auditQuery reads the audit filters of a query string.
func auditQuery(r *http.Request) (account.AuditQuery, error) {
	v := r.URL.Query()
	q := account.AuditQuery{Action: v.Get("action"), Cursor: v.Get("cursor")}
	var details []account.Detail
	for _, f := range []struct {
		name string
		dst  **account.UserID
	}{{"actor_id", &q.ActorID}, {"target_id", &q.TargetID}} {
		if s := v.Get(f.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				details = append(details, account.Detail{Field: f.name, Message: "Must be a user ID."})
				continue
			}
			id := account.UserID(n)
			*f.dst = &id
		}
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		if s := v.Get(f.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				if d, err2 := time.Parse("2006-01-02", s); err2 == nil {
					t = d
				} else {
					details = append(details, account.Detail{Field: f.name, Message: "Must be an RFC 3339 time such as 2026-03-01T09:00:00Z, or a date."})
					continue
				}
			}
			*f.dst = t.UTC()
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			details = append(details, account.Detail{Field: "limit", Message: "Must be between 1 and 500."})
		}
		q.Limit = n
	}
	if len(details) > 0 {
		return q, &account.Error{Code: account.CodeValidation, Message: "Some filters are not valid.", Details: details}
	}
	return q, nil
}

// apiAudit serves GET /api/v1/audit.
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	q, err := auditQuery(r)
	if err != nil {
		return err
	}
	p, err := s.accounts.Audit(r.Context(), a, q)
	if err != nil {
		return err
	}
	out := make([]auditEventJSON, 0, len(p.Events))
	for _, e := range p.Events {
		out = append(out, toAuditEvent(e))
	}
	var next *string
	if p.NextCursor != "" {
		next = &p.NextCursor
	}
	return encode(w, http.StatusOK, map[string]any{"events": out, "next_cursor": next})
}

type orgJSON struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
	account.Settings
}

// apiGetOrg serves GET /api/v1/org.
func (s *Server) apiGetOrg(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	o, err := s.accounts.Org(r.Context(), a)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, orgJSON{Slug: o.Slug, Name: o.Name, Settings: o.Settings})
}

type orgPatchRequest struct {
	SelfServiceReset *bool `json:"self_service_reset"`
	PasswordPolicy   *struct {
		MinLength      *int  `json:"min_length"`
		MaxLength      *int  `json:"max_length"`
		RequireClasses *int  `json:"require_classes"`
		History        *int  `json:"history"`
		BlockCommon    *bool `json:"block_common"`
		BlockPersonal  *bool `json:"block_personal"`
	} `json:"password_policy"`
	Lockout *struct {
		MaxFailures *int `json:"max_failures"`
		LockMinutes *int `json:"lock_minutes"`
	} `json:"lockout"`
	TemporaryPasswordHours *int `json:"temporary_password_hours"`
	ResetLinkMinutes       *int `json:"reset_link_minutes"`
	WelcomeLinkHours       *int `json:"welcome_link_hours"`
	SSO                    *struct {
		ProviderName string `json:"provider_name"`
		LoginURL     string `json:"login_url"`
	} `json:"sso"`
}

// apiPatchOrg serves PATCH /api/v1/org; a patch sends only what it changes.
func (s *Server) apiPatchOrg(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	var req orgPatchRequest
	if err := checkFields(w, r, map[string]bool{"slug": true, "name": true}, &req); err != nil {
		return err
	}
	p := account.SettingsPatch{SelfServiceReset: req.SelfServiceReset, TemporaryPasswordHours: req.TemporaryPasswordHours,
		ResetLinkMinutes: req.ResetLinkMinutes, WelcomeLinkHours: req.WelcomeLinkHours}
	if pp := req.PasswordPolicy; pp != nil {
		p.PasswordPolicy = &account.PolicyPatch{MinLength: pp.MinLength, MaxLength: pp.MaxLength, RequireClasses: pp.RequireClasses,
			History: pp.History, BlockCommon: pp.BlockCommon, BlockPersonal: pp.BlockPersonal}
	}
	if lp := req.Lockout; lp != nil {
		p.Lockout = &account.LockoutPatch{MaxFailures: lp.MaxFailures, LockMinutes: lp.LockMinutes}
	}
	if req.SSO != nil {
		p.SSO = &account.SSO{ProviderName: req.SSO.ProviderName, LoginURL: req.SSO.LoginURL}
	}
	o, err := s.accounts.UpdateOrg(r.Context(), a, p)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, orgJSON{Slug: o.Slug, Name: o.Name, Settings: o.Settings})
}
