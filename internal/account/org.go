package account

import "time"

// OrgID identifies an organization.
type OrgID int64

// Org is an organization: an agency or community with its own users and roles.
type Org struct {
	ID        OrgID
	Slug      string
	Name      string
	Settings  Settings
	CreatedAt time.Time
}

// Settings are an organization's adjustable rules, stored as one JSON document.
type Settings struct {
	SelfServiceReset       bool           `json:"self_service_reset"`
	PasswordPolicy         PasswordPolicy `json:"password_policy"`
	Lockout                Lockout        `json:"lockout"`
	TemporaryPasswordHours int            `json:"temporary_password_hours"`
	ResetLinkMinutes       int            `json:"reset_link_minutes"`
	WelcomeLinkHours       int            `json:"welcome_link_hours"`
	SSO                    *SSO           `json:"sso"`
}

// PasswordPolicy is the organization's password rules.
type PasswordPolicy struct {
	MinLength      int  `json:"min_length"`
	MaxLength      int  `json:"max_length"`
	RequireClasses int  `json:"require_classes"`
	History        int  `json:"history"`
	BlockCommon    bool `json:"block_common"`
	BlockPersonal  bool `json:"block_personal"`
}

// Lockout is when repeated sign-in failures lock an account, and for how long.
type Lockout struct {
	MaxFailures int `json:"max_failures"`
	LockMinutes int `json:"lock_minutes"`
}

// SSO says where an organization's single-sign-on users sign in.
type SSO struct {
	ProviderName string `json:"provider_name"`
	LoginURL     string `json:"login_url"`
}

// DefaultSettings are the settings of a new organization.
func DefaultSettings() Settings {
	return Settings{
		SelfServiceReset: true,
		PasswordPolicy: PasswordPolicy{
			MinLength: 12, MaxLength: 256, RequireClasses: 0, History: 5,
			BlockCommon: true, BlockPersonal: true,
		},
		Lockout:                Lockout{MaxFailures: 5, LockMinutes: 15},
		TemporaryPasswordHours: 72,
		ResetLinkMinutes:       60,
		WelcomeLinkHours:       72,
	}
}
