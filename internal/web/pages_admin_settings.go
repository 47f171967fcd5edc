package web

// The Settings page: the organization's password policy, lockout, link and
// temporary-password lifetimes, self-service reset and SSO, as GET/PATCH
// /api/v1/org edit them. The service checks every bound and names each bad
// field; the page shows the message next to the field.

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/account"
)

// settingsForm is what the Settings form holds: numbers as typed, so that a
// refused value is shown again as it was.
type settingsForm struct {
	SelfServiceReset                              bool
	MinLength, MaxLength, RequireClasses, History string
	BlockCommon, BlockPersonal                    bool
	MaxFailures, LockMinutes                      string
	TempHours, ResetMinutes, WelcomeHours         string
	SSOName, SSOURL                               string
}

// The form's field names: the API's paths of the settings, which the
// service's error details name too.
const (
	fSelfService    = "self_service_reset"
	fMinLength      = "password_policy.min_length"
	fMaxLength      = "password_policy.max_length"
	fRequireClasses = "password_policy.require_classes"
	fHistory        = "password_policy.history"
	fBlockCommon    = "password_policy.block_common"
	fBlockPersonal  = "password_policy.block_personal"
	fMaxFailures    = "lockout.max_failures"
	fLockMinutes    = "lockout.lock_minutes"
	fTempHours      = "temporary_password_hours"
	fResetMinutes   = "reset_link_minutes"
	fWelcomeHours   = "welcome_link_hours"
	fSSOName        = "sso.provider_name"
	fSSOURL         = "sso.login_url"
)

func settingsFormOf(st account.Settings) settingsForm {
	p, l := st.PasswordPolicy, st.Lockout
	f := settingsForm{SelfServiceReset: st.SelfServiceReset,
		MinLength: strconv.Itoa(p.MinLength), MaxLength: strconv.Itoa(p.MaxLength),
		RequireClasses: strconv.Itoa(p.RequireClasses), History: strconv.Itoa(p.History),
		BlockCommon: p.BlockCommon, BlockPersonal: p.BlockPersonal,
		MaxFailures: strconv.Itoa(l.MaxFailures), LockMinutes: strconv.Itoa(l.LockMinutes),
		TempHours: strconv.Itoa(st.TemporaryPasswordHours), ResetMinutes: strconv.Itoa(st.ResetLinkMinutes),
		WelcomeHours: strconv.Itoa(st.WelcomeLinkHours)}
	if st.SSO != nil {
		f.SSOName, f.SSOURL = st.SSO.ProviderName, st.SSO.LoginURL
	}
	return f
}

func postedSettings(r *http.Request) settingsForm {
	v := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	on := func(name string) bool { return r.PostFormValue(name) != "" }
	return settingsForm{SelfServiceReset: on(fSelfService),
		MinLength: v(fMinLength), MaxLength: v(fMaxLength), RequireClasses: v(fRequireClasses), History: v(fHistory),
		BlockCommon: on(fBlockCommon), BlockPersonal: on(fBlockPersonal),
		MaxFailures: v(fMaxFailures), LockMinutes: v(fLockMinutes),
		TempHours: v(fTempHours), ResetMinutes: v(fResetMinutes), WelcomeHours: v(fWelcomeHours),
		SSOName: v(fSSOName), SSOURL: v(fSSOURL)}
}

// patch is the whole form as a settings patch; a value that is not a whole
// number is named in fields.
func (f settingsForm) patch(fields fieldErrors) account.SettingsPatch {
	num := func(name, s string) *int {
		n, err := strconv.Atoi(s)
		if err != nil {
			fields.add(name, "Enter a whole number.")
			return nil
		}
		return &n
	}
	b := func(v bool) *bool { return &v }
	return account.SettingsPatch{
		SelfServiceReset: b(f.SelfServiceReset),
		PasswordPolicy: &account.PolicyPatch{MinLength: num(fMinLength, f.MinLength), MaxLength: num(fMaxLength, f.MaxLength),
			RequireClasses: num(fRequireClasses, f.RequireClasses), History: num(fHistory, f.History),
			BlockCommon: b(f.BlockCommon), BlockPersonal: b(f.BlockPersonal)},
		Lockout:                &account.LockoutPatch{MaxFailures: num(fMaxFailures, f.MaxFailures), LockMinutes: num(fLockMinutes, f.LockMinutes)},
		TemporaryPasswordHours: num(fTempHours, f.TempHours),
		ResetLinkMinutes:       num(fResetMinutes, f.ResetMinutes),
		WelcomeLinkHours:       num(fWelcomeHours, f.WelcomeHours),
		SSO:                    &account.SSO{ProviderName: f.SSOName, LoginURL: f.SSOURL},
	}
}

// ClassesWarning reports whether the form asks for character classes, which
// NIST SP 800-63B advises against.
func (f settingsForm) ClassesWarning() bool {
	n, err := strconv.Atoi(f.RequireClasses)
	return err == nil && n > 0
}

type settingsView struct {
	*pageData
	Action string
	Form   settingsForm
	Fields fieldErrors
}

// settingsPage serves GET /o/{org}/admin/settings.
func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	o, err := s.accounts.Org(r.Context(), a)
	if err != nil {
		return err
	}
	return s.renderSettings(w, r, a, http.StatusOK, settingsFormOf(o.Settings), "", fieldErrors{})
}

func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, a account.Actor, status int,
	f settingsForm, msg string, fields fieldErrors) error {
	d, err := s.adminLayout(r, a, "Settings")
	if err != nil {
		return err
	}
	d.Error = msg
	return s.renderView(w, r, status, "admin-settings", &settingsView{pageData: d,
		Action: s.orgPath(a.OrgSlug, "admin/settings"), Form: f, Fields: fields})
}

// settingsSave serves POST /o/{org}/admin/settings: Save settings, every
// field sent, as a full patch.
func (s *Server) settingsSave(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	f := postedSettings(r)
	fields := fieldErrors{}
	p := f.patch(fields)
	if len(fields) > 0 {
		// A refusal (no org.manage) comes before a complaint about the form.
		if _, err := s.accounts.Org(r.Context(), a); err != nil {
			return err
		}
		return s.renderSettings(w, r, a, http.StatusUnprocessableEntity, f, "The settings were not saved. Some settings are not valid.", fields)
	}
	if _, err := s.accounts.UpdateOrg(r.Context(), a, p); err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		if st == http.StatusForbidden {
			return err
		}
		retryAfter(w, st, err)
		return s.renderSettings(w, r, a, st, f, "The settings were not saved. "+body.Message, detailsOf(body))
	}
	s.redirectWithNotice(w, r, s.orgPath(a.OrgSlug, "admin/settings"), "Settings saved.")
	return nil
}
