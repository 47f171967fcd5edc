package web

// The credential actions of a user's page (PRODUCT.md flows 2 and 10): Set
// Temporary Password → Confirm → the password shown once, Unlock, and Sign
// out everywhere, with the user's sessions listed. The service decides who
// may do what (no takeover upward, no password for SSO or disabled users);
// its refusals are shown on the user's page.

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/latchkey/latchkey/internal/account"
	"github.com/latchkey/latchkey/internal/password"
)

// confirmCookie (with the user's ID appended) holds the one-time nonce of a
// Set Temporary Password confirmation. Reloading the page that shows the
// password re-posts the form; without the nonce that would silently issue a
// second password and kill the one just handed over.
const confirmCookie = "latchkey_confirm_"

// confirmTTL is how long a confirmation step stays valid.
const confirmTTL = 15 * time.Minute

// credentialView is the confirmation step and the page that shows the
// temporary password: the user page's view, and the reason typed.
type credentialView struct {
	*userView
	Reason string
	Nonce  string
}

// subjectSessions fills the user page's list of the user's sessions. It is
// called by userView for every page about one user.
func (s *Server) subjectSessions(r *http.Request, a account.Actor, v *userView) error {
	ss, err := s.accounts.UserSessions(r.Context(), a, v.Subject.ID)
	if c := account.ErrorCode(err); c == account.CodeForbidden || c == account.CodeNotFound {
		return nil // shown without the list; the page itself decides what is refused
	}
	if err != nil {
		return err
	}
	v.Sessions = toSessions(ss, a.SessionID)
	return nil
}

// CanUpdate reports whether the actor holds the update permission for the
// user's kind, so that the credential buttons are offered. The service still
// decides (a takeover upward is refused and said so).
func (v *userView) CanUpdate() bool {
	if v.Actor == nil {
		return false
	}
	if v.Subject.Kind.Community() {
		return v.Actor.Has(account.PermCommunityUpdate)
	}
	return v.Actor.Has(account.PermUsersUpdate)
}

// Unlockable reports whether Unlock would change anything: the account is
// locked, or sign-in failures are being counted towards a lock.
func (v *userView) Unlockable() bool { return v.Locked || v.Subject.FailedLogins > 0 }

// SSO reports whether the user signs in with single sign-on.
func (v *userView) SSO() bool { return v.Subject.AuthSource == account.AuthSSO }

// SSONote is the sentence shown instead of the password buttons for an SSO
// user. Where the organization's SSO is (a setting) is named only to holders
// of org.manage, who may read the settings; others get the sentence without.
func (v *userView) SSONote() string {
	msg := v.Subject.Name + " signs in with single sign-on"
	if v.Actor != nil && v.Actor.Has(account.PermOrgManage) {
		if sso := v.Org.Settings.SSO; sso != nil && sso.ProviderName != "" {
			msg += " (" + sso.ProviderName
			if sso.LoginURL != "" {
				msg += " at " + sso.LoginURL
			}
			msg += ")"
		}
	}
	return msg + "; a local password would change nothing."
}

// TempExpired reports whether the user still has to change a temporary
// password that has expired: they can no longer sign in with it.
func (v *userView) TempExpired() bool {
	e := v.Subject.TempPasswordExpiresAt
	return v.Subject.Status == account.StatusForcePasswordReset && e != nil && !e.After(time.Now())
}

func (s *Server) userPathOf(a account.Actor, u account.User) string {
	return s.orgPath(a.OrgSlug, scopeOf(u.Kind).Path+"/"+strconv.FormatInt(int64(u.ID), 10))
}

// tempPasswordAsk serves POST /o/{org}/admin/users/{id}/temporary-password:
// the "are you sure?" step, with an optional reason.
func (s *Server) tempPasswordAsk(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := pageUserID(r)
	if err != nil {
		return err
	}
	u, err := s.accounts.GetUser(r.Context(), a, id)
	if err != nil {
		return err
	}
	return s.renderTempConfirm(w, r, a, u, http.StatusOK, "", nil)
}

func (s *Server) renderTempConfirm(w http.ResponseWriter, r *http.Request, a account.Actor, u account.User,
	status int, reason string, fields fieldErrors) error {
	v, err := s.userView(r, a, u)
	if err != nil {
		return err
	}
	v.Title = "Set Temporary Password for " + u.Name
	if fields != nil {
		v.Fields = fields
		v.Error = "No temporary password was set."
	}
	nonce, _ := password.NewToken("")
	s.setCookie(w, confirmCookie+strconv.FormatInt(int64(u.ID), 10), nonce, confirmTTL)
	return s.renderView(w, r, status, "admin-temp-password-confirm", &credentialView{userView: v, Reason: reason, Nonce: nonce})
}

// tempPasswordIssue serves POST /o/{org}/admin/users/{id}/temporary-password/confirm:
// issues the password and shows it in this answer only — never in a URL, a
// cookie, a log or a later page.
func (s *Server) tempPasswordIssue(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := pageUserID(r)
	if err != nil {
		return err
	}
	reason := r.PostFormValue("reason")
	name := confirmCookie + strconv.FormatInt(int64(id), 10)
	nonce, posted := s.cookie(r, name), r.PostFormValue("nonce")
	if nonce == "" || subtle.ConstantTimeCompare([]byte(nonce), []byte(posted)) != 1 {
		return s.userPageAgain(w, r, a, id, nil, http.StatusConflict,
			"This confirmation was already used or has expired, so no new temporary password was set: the one shown before still works. To replace it, click Set Temporary Password again.", nil)
	}
	s.setCookie(w, name, "", -1)
	tp, err := s.accounts.IssueTemporaryPassword(r.Context(), a, id, reason)
	if err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		retryAfter(w, st, err)
		if f := detailsOf(body); len(f["reason"]) > 0 {
			u, err := s.accounts.GetUser(r.Context(), a, id)
			if err != nil {
				return err
			}
			return s.renderTempConfirm(w, r, a, u, st, reason, f)
		}
		return s.userPageAgain(w, r, a, id, nil, st, "No temporary password was set. "+withDetails(body), nil)
	}
	v, err := s.userView(r, a, tp.User)
	if err != nil {
		return err
	}
	exp := tp.ExpiresAt
	v.Title = "Temporary password for " + tp.User.Name
	v.TempPassword, v.TempExpires = string(tp.Password), &exp
	w.Header().Set("Cache-Control", "no-store")
	return s.renderView(w, r, http.StatusOK, "admin-temp-password", &credentialView{userView: v, Reason: reason})
}

// userUnlock serves POST /o/{org}/admin/users/{id}/unlock.
func (s *Server) userUnlock(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := pageUserID(r)
	if err != nil {
		return err
	}
	u, err := s.accounts.Unlock(r.Context(), a, id, r.PostFormValue("reason"))
	if err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		retryAfter(w, st, err)
		return s.userPageAgain(w, r, a, id, nil, st, "The account was not unlocked. "+withDetails(body), nil)
	}
	s.redirectWithNotice(w, r, s.userPathOf(a, u), u.Name+" is unlocked.")
	return nil
}

// userSignOutEverywhere serves POST /o/{org}/admin/users/{id}/sign-out-everywhere.
func (s *Server) userSignOutEverywhere(w http.ResponseWriter, r *http.Request, a account.Actor) error {
	id, err := pageUserID(r)
	if err != nil {
		return err
	}
	u, err := s.accounts.GetUser(r.Context(), a, id)
	if err != nil {
		return err
	}
	if err := s.accounts.RevokeUserSessions(r.Context(), a, id, r.PostFormValue("reason")); err != nil {
		st, body, fatal := formError(err)
		if fatal != nil {
			return fatal
		}
		retryAfter(w, st, err)
		return s.userPageAgain(w, r, a, id, nil, st, u.Name+" was not signed out. "+withDetails(body), nil)
	}
	if u.ID == a.UserID {
		// The administrator ended their own sessions, this one included.
		s.setCookie(w, sessionCookie, "", -1)
		http.Redirect(w, r, s.orgPath(a.OrgSlug, "login")+"?signed_out=1", http.StatusSeeOther)
		return nil
	}
	s.redirectWithNotice(w, r, s.userPathOf(a, u), u.Name+" is signed out everywhere.")
	return nil
}
