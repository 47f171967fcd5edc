package web

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/importer"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes registers every route of Latchkey; it reads as the API.
func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}))
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(staticFS())))

	// JSON API.
	m.Handle("POST /api/v1/auth/login", s.limit("login", s.api(s.apiLogin)))
	m.Handle("POST /api/v1/auth/new-password", s.limit("reset", s.api(s.apiNewPassword)))
	m.Handle("POST /api/v1/auth/logout", s.api(s.authed(s.apiLogout)))
	m.Handle("POST /api/v1/auth/forgot-password", s.limit("forgot", s.api(s.apiForgotPassword)))
	m.Handle("POST /api/v1/auth/reset-password", s.limit("reset", s.api(s.apiResetPassword)))
	m.Handle("GET /api/v1/orgs/{org}/password-policy", s.api(s.apiPasswordPolicy))
	m.Handle("GET /api/v1/me", s.api(s.authed(s.apiMe)))
	m.Handle("GET /api/v1/me/sessions", s.api(s.authed(s.apiMySessions)))
	m.Handle("DELETE /api/v1/me/sessions/{id}", s.api(s.authed(s.apiDeleteMySession)))
	m.Handle("POST /api/v1/me/password", s.limit("login", s.api(s.authed(s.apiChangePassword))))

	m.Handle("GET /api/v1/users", s.api(s.authed(s.apiListUsers)))
	m.Handle("POST /api/v1/users", s.api(s.authed(s.apiCreateUser)))
	m.Handle("GET /api/v1/users/{id}", s.api(s.authed(s.apiGetUser)))
	m.Handle("PATCH /api/v1/users/{id}", s.api(s.authed(s.apiUpdateUser)))
	m.Handle("DELETE /api/v1/users/{id}", s.api(s.authed(s.apiDeleteUser)))
	m.Handle("POST /api/v1/users/{id}/temporary-password", s.api(s.authed(s.apiTemporaryPassword)))
	m.Handle("POST /api/v1/users/{id}/unlock", s.api(s.authed(s.apiUnlock)))
	m.Handle("GET /api/v1/users/{id}/sessions", s.api(s.authed(s.apiUserSessions)))
	m.Handle("DELETE /api/v1/users/{id}/sessions", s.api(s.authed(s.apiRevokeUserSessions)))
	m.Handle("POST /api/v1/users/{id}/password-reset-email", s.api(s.authed(s.apiPasswordResetEmail)))
	m.Handle("GET /api/v1/emails", s.api(s.authed(s.apiEmails)))
	m.Handle("POST /api/v1/emails/{id}/resend", s.api(s.authed(s.apiResendEmail)))
	m.Handle("GET /api/v1/audit", s.api(s.authed(s.apiAudit)))
	m.Handle("POST /api/v1/imports", s.api(s.authed(s.apiImport)))
	m.Handle("GET /api/v1/imports/template.csv", s.api(s.apiImportTemplate(importer.CSV)))
	m.Handle("GET /api/v1/imports/template.xlsx", s.api(s.apiImportTemplate(importer.XLSX)))
	m.Handle("GET /api/v1/imports/{id}", s.api(s.authed(s.apiImportStatus)))
	m.Handle("GET /api/v1/exports/users.csv", s.api(s.authed(s.apiExportUsers)))
	m.Handle("GET /api/v1/org", s.api(s.authed(s.apiGetOrg)))
	m.Handle("PATCH /api/v1/org", s.api(s.authed(s.apiPatchOrg)))
	m.Handle("GET /api/v1/roles", s.api(s.authed(s.apiListRoles)))
	m.Handle("POST /api/v1/roles", s.api(s.authed(s.apiCreateRole)))
	m.Handle("PATCH /api/v1/roles/{name}", s.api(s.authed(s.apiUpdateRole)))
	m.Handle("DELETE /api/v1/roles/{name}", s.api(s.authed(s.apiDeleteRole)))

	// Pages.
	m.Handle("GET /{$}", s.page(s.root))
	m.Handle("GET /o/{org}/{$}", s.page(s.signedIn(s.home)))
	m.Handle("GET /o/{org}/login", s.page(s.loginPage))
	m.Handle("POST /o/{org}/login", s.limit("login", s.page(s.csrf(s.loginSubmit))))
	m.Handle("GET /o/{org}/update-password", s.page(s.updatePasswordPage))
	m.Handle("POST /o/{org}/update-password", s.limit("reset", s.page(s.csrf(s.updatePasswordSubmit))))
	m.Handle("GET /o/{org}/forgot-password", s.page(s.forgotPage))
	m.Handle("POST /o/{org}/forgot-password", s.limit("forgot", s.page(s.csrf(s.forgotSubmit))))
	m.Handle("GET /o/{org}/reset-password", s.page(s.resetPage))
	m.Handle("POST /o/{org}/reset-password", s.limit("reset", s.page(s.csrf(s.resetSubmit))))
	m.Handle("GET /o/{org}/account", s.page(s.signedIn(s.accountPage)))
	m.Handle("POST /o/{org}/account/password", s.limit("login", s.page(s.csrf(s.signedIn(s.changePasswordSubmit)))))
	m.Handle("POST /o/{org}/account/sessions/{id}/sign-out", s.page(s.csrf(s.signedIn(s.signOutDevice))))
	m.Handle("POST /o/{org}/logout", s.page(s.csrf(s.logoutSubmit)))

	// Administration pages (pages_admin.go): staff users under admin/users,
	// residents and businesses under community/users.
	m.Handle("GET /o/{org}/admin/users", s.page(s.signedIn(s.usersPage(staffScope))))
	m.Handle("GET /o/{org}/admin/users/new", s.page(s.signedIn(s.newUserPage(staffScope))))
	m.Handle("POST /o/{org}/admin/users/new", s.page(s.csrf(s.signedIn(s.newUserSubmit(staffScope)))))
	m.Handle("GET /o/{org}/admin/users/{id}", s.page(s.signedIn(s.userPage(staffScope))))
	m.Handle("POST /o/{org}/admin/users/{id}", s.page(s.csrf(s.signedIn(s.userSave))))
	m.Handle("POST /o/{org}/admin/users/{id}/status", s.page(s.csrf(s.signedIn(s.userStatus))))
	m.Handle("GET /o/{org}/admin/users/{id}/delete", s.page(s.signedIn(s.userDeletePage)))
	m.Handle("POST /o/{org}/admin/users/{id}/delete", s.page(s.csrf(s.signedIn(s.userDelete))))
	m.Handle("GET /o/{org}/community/users", s.page(s.signedIn(s.usersPage(communityScope))))
	m.Handle("GET /o/{org}/community/users/new", s.page(s.signedIn(s.newUserPage(communityScope))))
	m.Handle("POST /o/{org}/community/users/new", s.page(s.csrf(s.signedIn(s.newUserSubmit(communityScope)))))
	m.Handle("GET /o/{org}/community/users/{id}", s.page(s.signedIn(s.userPage(communityScope))))
	m.Handle("POST /o/{org}/community/users/{id}", s.page(s.csrf(s.signedIn(s.userSave))))
	m.Handle("POST /o/{org}/community/users/{id}/status", s.page(s.csrf(s.signedIn(s.userStatus))))
	m.Handle("GET /o/{org}/community/users/{id}/delete", s.page(s.signedIn(s.userDeletePage)))
	m.Handle("POST /o/{org}/community/users/{id}/delete", s.page(s.csrf(s.signedIn(s.userDelete))))
	m.Handle("GET /o/{org}/admin/roles", s.page(s.signedIn(s.rolesPage)))
	m.Handle("POST /o/{org}/admin/roles", s.page(s.csrf(s.signedIn(s.roleCreate))))
	m.Handle("POST /o/{org}/admin/roles/{name}", s.page(s.csrf(s.signedIn(s.roleSave))))
	m.Handle("POST /o/{org}/admin/roles/{name}/delete", s.page(s.csrf(s.signedIn(s.roleDelete))))

	// Credentials of a user (pages_admin_credentials.go), the reset email and
	// the outbox (pages_admin_emails.go), audit and settings.
	for _, p := range []string{"admin/users", "community/users"} {
		m.Handle("POST /o/{org}/"+p+"/{id}/temporary-password", s.page(s.csrf(s.signedIn(s.tempPasswordAsk))))
		m.Handle("POST /o/{org}/"+p+"/{id}/temporary-password/confirm", s.page(s.csrf(s.signedIn(s.tempPasswordIssue))))
		m.Handle("POST /o/{org}/"+p+"/{id}/unlock", s.page(s.csrf(s.signedIn(s.userUnlock))))
		m.Handle("POST /o/{org}/"+p+"/{id}/sign-out-everywhere", s.page(s.csrf(s.signedIn(s.userSignOutEverywhere))))
		m.Handle("POST /o/{org}/"+p+"/{id}/password-reset-email", s.page(s.csrf(s.signedIn(s.userSendReset))))
	}
	m.Handle("GET /o/{org}/admin/emails", s.page(s.signedIn(s.emailsPage)))
	m.Handle("POST /o/{org}/admin/emails/{id}/resend", s.page(s.csrf(s.signedIn(s.emailResend))))
	m.Handle("GET /o/{org}/admin/audit", s.page(s.signedIn(s.auditPage)))
	m.Handle("GET /o/{org}/admin/settings", s.page(s.signedIn(s.settingsPage)))
	m.Handle("POST /o/{org}/admin/settings", s.page(s.csrf(s.signedIn(s.settingsSave))))

	// Import (pages_admin_import.go): upload, preview, run, progress; the
	// upload forms are multipart, so their CSRF check reads up to the
	// upload limit, after the sign-in.
	m.Handle("GET /o/{org}/admin/import", s.page(s.signedIn(s.importPage)))
	m.Handle("POST /o/{org}/admin/import/preview", s.page(s.signedIn(s.uploadCSRF(s.importPreview))))
	m.Handle("POST /o/{org}/admin/import/run", s.page(s.signedIn(s.uploadCSRF(s.importRun))))
	m.Handle("GET /o/{org}/admin/import/{id}", s.page(s.signedIn(s.importJobPage)))
	m.Handle("GET /o/{org}/admin/import/{id}/rejected.csv", s.page(s.signedIn(s.importRejectedCSV)))

	// Everything else: the API's error shape, 404 or 405.
	m.Handle("/", s.api(s.notFound))
}
