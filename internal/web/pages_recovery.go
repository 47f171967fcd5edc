package web

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/account"
)

// recoveryData is what the forgot, reset and change-password pages show.
type recoveryData struct {
	*pageData
	Token    string
	Purpose  account.ResetPurpose
	Done     bool
	Disabled bool
	Code     bool
}

// forgotPage serves GET /o/{org}/forgot-password.
func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request) error {
	o, err := s.org(r)
	if err != nil {
		return err
	}
	d := &recoveryData{pageData: &pageData{Title: "Forgot your password?", Org: o}}
	if !o.Settings.SelfServiceReset {
		d.Disabled = true
		return s.renderView(w, r, http.StatusForbidden, "forgot-password", d)
	}
	return s.renderView(w, r, http.StatusOK, "forgot-password", d)
}

// forgotSubmit serves POST /o/{org}/forgot-password: the same page whether
// or not the email has an account.
func (s *Server) forgotSubmit(w http.ResponseWriter, r *http.Request) error {
	o, err := s.org(r)
	if err != nil {
		return err
	}
	d := &recoveryData{pageData: &pageData{Title: "Forgot your password?", Org: o}}
	err = s.accounts.RequestReset(r.Context(), account.ForgotInput{Org: o.Slug, Email: r.PostFormValue("email"), Client: client(r)})
	if account.ErrorCode(err) == account.CodeSelfServiceOff {
		d.Disabled = true
		return s.renderView(w, r, http.StatusForbidden, "forgot-password", d)
	}
	if err != nil {
		return err
	}
	d.Done = true
	return s.renderView(w, r, http.StatusOK, "forgot-password", d)
}

// resetPage serves GET /o/{org}/reset-password?token=: opening the link
// changes nothing, so mail scanners that follow it use nothing up. Without
// a token it asks for the emailed code instead.
func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) error {
	o, err := s.org(r)
	if err != nil {
		return err
	}
	rules, err := s.accounts.PasswordRules(r.Context(), o.Slug)
	if err != nil {
		return err
	}
	d := &recoveryData{pageData: &pageData{Title: "Reset your password", Org: o, Rules: rules}}
	tok := r.URL.Query().Get("token")
	if tok == "" {
		d.Code = true
		return s.renderView(w, r, http.StatusOK, "reset-password", d)
	}
	info, err := s.accounts.ResetLinkInfo(r.Context(), account.Secret(tok))
	if err != nil || info.Org.ID != o.ID {
		if err != nil && account.ErrorCode(err) == account.CodeInternal {
			return err
		}
		d.Error = "This link is not valid: it was used, has expired or was replaced by a newer one. Ask for a new one below, or enter the code from the email."
		d.Code = true
		return s.renderView(w, r, http.StatusBadRequest, "reset-password", d)
	}
	d.Token, d.Purpose, d.User = tok, info.Purpose, info.User
	if info.Purpose == account.PurposeWelcome {
		d.Title = "Choose your password"
	}
	return s.renderView(w, r, http.StatusOK, "reset-password", d)
}

// resetSubmit serves POST /o/{org}/reset-password; only this uses the link up.
func (s *Server) resetSubmit(w http.ResponseWriter, r *http.Request) error {
	o, err := s.org(r)
	if err != nil {
		return err
	}
	rules, err := s.accounts.PasswordRules(r.Context(), o.Slug)
	if err != nil {
		return err
	}
	tok := r.PostFormValue("token")
	d := &recoveryData{pageData: &pageData{Title: "Reset your password", Org: o, Rules: rules, Email: r.PostFormValue("email")},
		Token: tok, Code: tok == ""}
	if r.PostFormValue("purpose") == string(account.PurposeWelcome) {
		d.Title, d.Purpose = "Choose your password", account.PurposeWelcome
	}
	pw, confirm := r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	if pw != confirm {
		d.Error = "The two passwords do not match."
		return s.renderView(w, r, http.StatusUnprocessableEntity, "reset-password", d)
	}
	in := account.ResetInput{Token: account.Secret(tok), NewPassword: account.Secret(pw), Client: client(r)}
	if tok == "" {
		in.Org, in.Email, in.Code = o.Slug, r.PostFormValue("email"), account.Secret(strings.TrimSpace(r.PostFormValue("code")))
	}
	if err := s.accounts.CompleteReset(r.Context(), in); err != nil {
		st, body := publicError(err)
		if st >= 500 {
			return err
		}
		d.Error = body.Message
		d.Failed = map[string]bool{}
		for _, v := range body.Details {
			d.Failed[v.Rule] = true
		}
		retryAfter(w, st, err)
		return s.renderView(w, r, st, "reset-password", d)
	}
	d.Done = true
	return s.renderView(w, r, http.StatusOK, "reset-password", d)
}

// changePasswordSubmit serves POST /o/{org}/account/password.
func (s *Server) changePasswordSubmit(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	cur, pw, confirm := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	fail := func(st int, msg string, failed map[string]bool) error {
		d, err := s.accountData(r, a)
		if err != nil {
			return err
		}
		d.Error, d.Failed = msg, failed
		return s.render(w, r, st, "account", d)
	}
	if pw != confirm {
		return fail(http.StatusUnprocessableEntity, "The two new passwords do not match.", nil)
	}
	if err := s.accounts.ChangePassword(r.Context(), a, account.Secret(cur), account.Secret(pw)); err != nil {
		st, body := publicError(err)
		if st >= 500 {
			return err
		}
		failed := map[string]bool{}
		for _, v := range body.Details {
			failed[v.Rule] = true
		}
		retryAfter(w, st, err)
		return fail(st, body.Message, failed)
	}
	http.Redirect(w, r, s.orgPath(a.OrgSlug, "account")+"?changed=1", http.StatusSeeOther)
	return nil
}
