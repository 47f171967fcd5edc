package web

import (
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/password"
)

type loginRequest struct {
	Org      string `json:"org"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type sessionResponse struct {
	Token     string   `json:"token"`
	ExpiresAt string   `json:"expires_at"`
	User      userJSON `json:"user"`
}

type challengeResponse struct {
	Challenge      account.ChallengeKind `json:"challenge"`
	ChallengeToken string                `json:"challenge_token"`
	ExpiresAt      string                `json:"expires_at"`
	PasswordRules  []ruleJSON            `json:"password_rules"`
}

func toSessionResponse(ns *account.NewSession) sessionResponse {
	return sessionResponse{Token: string(ns.Token), ExpiresAt: rfc3339(ns.ExpiresAt), User: toUser(ns.User)}
}

// apiLogin serves POST /api/v1/auth/login.
func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	res, err := s.accounts.Login(r.Context(), account.LoginInput{Org: req.Org, Email: req.Email,
		Password: account.Secret(req.Password), Client: client(r)})
	if err != nil {
		return err
	}
	if ch := res.Challenge; ch != nil {
		return encode(w, http.StatusOK, challengeResponse{Challenge: ch.Kind, ChallengeToken: string(ch.Token),
			ExpiresAt: rfc3339(ch.ExpiresAt), PasswordRules: toRules(ch.Rules)})
	}
	return encode(w, http.StatusOK, toSessionResponse(res.Session))
}

type newPasswordRequest struct {
	ChallengeToken string `json:"challenge_token"`
	NewPassword    string `json:"new_password"`
}

// apiNewPassword serves POST /api/v1/auth/new-password.
func (s *Server) apiNewPassword(w http.ResponseWriter, r *http.Request) error {
	var req newPasswordRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ns, err := s.accounts.CompleteNewPassword(r.Context(), account.NewPasswordInput{
		ChallengeToken: account.Secret(req.ChallengeToken), NewPassword: account.Secret(req.NewPassword), Client: client(r)})
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, toSessionResponse(ns))
}

// apiLogout serves POST /api/v1/auth/logout.
func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	if err := s.accounts.Logout(r.Context(), a); err != nil {
		return err
	}
	if _, ok := bearer(r); !ok {
		s.setCookie(w, sessionCookie, "", -1)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiMe serves GET /api/v1/me.
func (s *Server) apiMe(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	u, err := s.accounts.Me(r.Context(), a)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, toUser(u))
}

// apiMySessions serves GET /api/v1/me/sessions.
func (s *Server) apiMySessions(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	ss, err := s.accounts.MySessions(r.Context(), a)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, map[string]any{"sessions": toSessions(ss, a.SessionID)})
}

// apiDeleteMySession serves DELETE /api/v1/me/sessions/{id}.
func (s *Server) apiDeleteMySession(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &account.Error{Code: account.CodeNotFound, Message: "Not found."}
	}
	if err := s.accounts.EndMySession(r.Context(), a, account.SessionID(id)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiPasswordPolicy serves GET /api/v1/orgs/{org}/password-policy; it is public.
func (s *Server) apiPasswordPolicy(w http.ResponseWriter, r *http.Request) error {
	org, err := s.accounts.OrgBySlug(r.Context(), r.PathValue("org"))
	if err != nil {
		return err
	}
	p := org.Settings.PasswordPolicy
	rules, err := s.accounts.PasswordRules(r.Context(), org.Slug)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, map[string]any{
		"rules": toRules(rules), "min_length": p.MinLength, "max_length": p.MaxLength,
	})
}

func toRules(rs []password.Rule) []ruleJSON {
	out := make([]ruleJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, ruleJSON{Rule: r.Rule, Message: r.Message})
	}
	return out
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	encode(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.accounts.Ping(r.Context()); err != nil {
		s.log.Error("readiness: database unreachable", "request_id", requestID(r.Context()), "err", err)
		encode(w, http.StatusServiceUnavailable, errorBody{Error: errorJSON{Code: "not_ready", Message: "The database is unreachable."}})
		return
	}
	encode(w, http.StatusOK, map[string]string{"status": "ok"})
}
