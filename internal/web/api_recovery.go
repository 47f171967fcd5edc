package web

import (
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey/internal/account"
)

type forgotRequest struct {
	Org   string `json:"org"`
	Email string `json:"email"`
}

// forgotAnswer is the one answer to every forgot-password request.
var forgotAnswer = map[string]string{"message": "If an account with that email exists, we sent it a link to reset the password."}

// apiForgotPassword serves POST /api/v1/auth/forgot-password: always 202
// with the same body, whether or not the email has an account.
func (s *Server) apiForgotPassword(w http.ResponseWriter, r *http.Request) error {
	var req forgotRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := s.accounts.RequestReset(r.Context(), account.ForgotInput{Org: req.Org, Email: req.Email, Client: client(r)}); err != nil {
		return err
	}
	return encode(w, http.StatusAccepted, forgotAnswer)
}

type resetRequest struct {
	Token       string `json:"token"`
	Org         string `json:"org"`
	Email       string `json:"email"`
	Code        string `json:"code"`
	NewPassword string `json:"new_password"`
}

// apiResetPassword serves POST /api/v1/auth/reset-password, with the link's
// token or with organization, email and the emailed code.
func (s *Server) apiResetPassword(w http.ResponseWriter, r *http.Request) error {
	var req resetRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if (req.Token == "") == (req.Code == "") {
		return &account.Error{Code: account.CodeInvalidToken, Message: "Send either the link's token, or org, email and code."}
	}
	err := s.accounts.CompleteReset(r.Context(), account.ResetInput{Token: account.Secret(req.Token), Org: req.Org, Email: req.Email,
		Code: account.Secret(req.Code), NewPassword: account.Secret(req.NewPassword), Client: client(r)})
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, map[string]string{"message": "Your password has been changed. Sign in with it."})
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// apiChangePassword serves POST /api/v1/me/password.
func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	var req changePasswordRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := s.accounts.ChangePassword(r.Context(), a, account.Secret(req.CurrentPassword), account.Secret(req.NewPassword)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type emailJSON struct {
	ID        account.EmailID     `json:"id"`
	To        string              `json:"to"`
	UserID    *int64              `json:"user_id"`
	Template  string              `json:"template"`
	Subject   string              `json:"subject"`
	Status    account.EmailStatus `json:"status"`
	Attempts  int                 `json:"attempts"`
	LastError string              `json:"last_error"`
	CreatedAt string              `json:"created_at"`
	SentAt    *string             `json:"sent_at"`
	TextBody  string              `json:"text_body,omitempty"`
	HTMLBody  string              `json:"html_body,omitempty"`
}

func toEmail(v account.EmailView) emailJSON {
	e := emailJSON{ID: v.ID, To: v.To, UserID: idp(v.UserID), Template: v.Template, Subject: v.Subject, Status: v.Status,
		Attempts: v.Attempts, LastError: v.LastError, CreatedAt: rfc3339(v.CreatedAt), SentAt: rfc3339p(v.SentAt)}
	if v.ShowBody {
		e.TextBody, e.HTMLBody = v.TextBody, v.HTMLBody
	}
	return e
}

func toEmails(vs []account.EmailView) []emailJSON {
	out := make([]emailJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, toEmail(v))
	}
	return out
}

// apiPasswordResetEmail serves POST /api/v1/users/{id}/password-reset-email.
func (s *Server) apiPasswordResetEmail(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	e, err := s.accounts.SendResetEmail(r.Context(), a, id)
	if err != nil {
		return err
	}
	return encode(w, http.StatusAccepted, map[string]any{"email": toEmail(account.EmailView{Email: e})})
}

// apiEmails serves GET /api/v1/emails.
func (s *Server) apiEmails(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	q := r.URL.Query()
	eq := account.EmailQuery{Status: q.Get("status")}
	if v := q.Get("user_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return &account.Error{Code: account.CodeValidation, Message: "Some filters are not valid.",
				Details: []account.Detail{{Field: "user_id", Message: "Must be a user ID."}}}
		}
		id := account.UserID(n)
		eq.UserID = &id
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return &account.Error{Code: account.CodeValidation, Message: "Some filters are not valid.",
				Details: []account.Detail{{Field: "limit", Message: "Must be between 1 and 200."}}}
		}
		eq.Limit = n
	}
	vs, err := s.accounts.Emails(r.Context(), a, eq)
	if err != nil {
		return err
	}
	return encode(w, http.StatusOK, map[string]any{"emails": toEmails(vs)})
}

// apiResendEmail serves POST /api/v1/emails/{id}/resend.
func (s *Server) apiResendEmail(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || n <= 0 {
		return &account.Error{Code: account.CodeNotFound, Message: "Not found."}
	}
	e, err := s.accounts.ResendEmail(r.Context(), a, account.EmailID(n))
	if err != nil {
		return err
	}
	return encode(w, http.StatusAccepted, map[string]any{"email": toEmail(account.EmailView{Email: e})})
}
