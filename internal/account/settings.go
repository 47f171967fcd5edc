package account

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SettingsPatch changes an organization's settings; nil fields stay.
type SettingsPatch struct {
	SelfServiceReset       *bool
	PasswordPolicy         *PolicyPatch
	Lockout                *LockoutPatch
	TemporaryPasswordHours *int
	ResetLinkMinutes       *int
	WelcomeLinkHours       *int
	// SSO sets where SSO users sign in; a patch with both fields empty removes it.
	SSO *SSO
}

// PolicyPatch changes the password policy; nil fields stay.
type PolicyPatch struct {
	MinLength, MaxLength, RequireClasses, History *int
	BlockCommon, BlockPersonal                    *bool
}

// LockoutPatch changes the lockout; nil fields stay.
type LockoutPatch struct {
	MaxFailures, LockMinutes *int
}

// Org returns the actor's organization and its settings. Returns forbidden
// without org.manage.
func (s *Service) Org(ctx context.Context, a Actor) (Org, error) {
	if !a.Has(PermOrgManage) {
		return Org{}, wrap("account.Org", errForbidden)
	}
	var o Org
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		o, err = tx.OrgByID(ctx, a.OrgID)
		return err
	})
	return o, wrap("account.Org", err)
}

func setInt(dst *int, v *int, field string, lo, hi int, d *[]Detail) {
	if v == nil {
		return
	}
	if *v < lo || *v > hi {
		*d = append(*d, Detail{Field: field, Message: "Must be between " + strconv.Itoa(lo) + " and " + strconv.Itoa(hi) + "."})
		return
	}
	*dst = *v
}

// UpdateOrg changes the organization's settings. Every value is
// checked against its bounds, and all bad fields are named at once
// (validation_failed); nothing changes then. Returns forbidden without
// org.manage. The audit event org.updated keeps the values before and after.
func (s *Service) UpdateOrg(ctx context.Context, a Actor, p SettingsPatch) (Org, error) {
	const op = "account.UpdateOrg"
	if !a.Has(PermOrgManage) {
		return Org{}, wrap(op, errForbidden)
	}
	var out Org
	err := s.store.Tx(ctx, func(tx Tx) error {
		o, err := tx.OrgByID(ctx, a.OrgID)
		if err != nil {
			return err
		}
		before := o
		st := o.Settings
		var d []Detail
		if p.SelfServiceReset != nil {
			st.SelfServiceReset = *p.SelfServiceReset
		}
		if pp := p.PasswordPolicy; pp != nil {
			setInt(&st.PasswordPolicy.MinLength, pp.MinLength, "password_policy.min_length", 8, 64, &d)
			setInt(&st.PasswordPolicy.MaxLength, pp.MaxLength, "password_policy.max_length", 64, 1024, &d)
			setInt(&st.PasswordPolicy.RequireClasses, pp.RequireClasses, "password_policy.require_classes", 0, 4, &d)
			setInt(&st.PasswordPolicy.History, pp.History, "password_policy.history", 0, 24, &d)
			if pp.BlockCommon != nil {
				st.PasswordPolicy.BlockCommon = *pp.BlockCommon
			}
			if pp.BlockPersonal != nil {
				st.PasswordPolicy.BlockPersonal = *pp.BlockPersonal
			}
			if st.PasswordPolicy.MaxLength < st.PasswordPolicy.MinLength {
				d = append(d, Detail{Field: "password_policy.max_length", Message: "Must be at least min_length."})
			}
		}
		if lp := p.Lockout; lp != nil {
			setInt(&st.Lockout.MaxFailures, lp.MaxFailures, "lockout.max_failures", 3, 100, &d)
			setInt(&st.Lockout.LockMinutes, lp.LockMinutes, "lockout.lock_minutes", 1, 1440, &d)
		}
		setInt(&st.TemporaryPasswordHours, p.TemporaryPasswordHours, "temporary_password_hours", 1, 720, &d)
		setInt(&st.ResetLinkMinutes, p.ResetLinkMinutes, "reset_link_minutes", 1, 1440, &d)
		setInt(&st.WelcomeLinkHours, p.WelcomeLinkHours, "welcome_link_hours", 1, 168, &d)
		if p.SSO != nil {
			name, link := strings.TrimSpace(p.SSO.ProviderName), strings.TrimSpace(p.SSO.LoginURL)
			switch {
			case name == "" && link == "":
				st.SSO = nil
			default:
				if name == "" || utf8.RuneCountInString(name) > 100 {
					d = append(d, Detail{Field: "sso.provider_name", Message: "Enter the provider's name, up to 100 characters."})
				}
				if u, err := url.Parse(link); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
					d = append(d, Detail{Field: "sso.login_url", Message: "Enter the address where SSO users sign in, such as https://sso.example.org."})
				}
				st.SSO = &SSO{ProviderName: name, LoginURL: link}
			}
		}
		if len(d) > 0 {
			return &Error{Code: CodeValidation, Message: "Some settings are not valid.", Details: d}
		}
		o.Settings = st
		if err := tx.UpdateOrgSettings(ctx, o.ID, o.Settings); err != nil {
			return err
		}
		out = o
		return s.append(ctx, tx, a.event(ActionOrgUpdated, nil, OutcomeSuccess, map[string]any{
			"before": before.Settings,
			"after":  o.Settings,
		}))
	})
	if err != nil {
		return Org{}, wrap(op, err)
	}
	return out, nil
}
