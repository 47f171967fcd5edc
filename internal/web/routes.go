package web

import (
	"net/http"

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
	m.Handle("GET /api/v1/orgs/{org}/password-policy", s.api(s.apiPasswordPolicy))
	m.Handle("GET /api/v1/me", s.api(s.authed(s.apiMe)))
	m.Handle("GET /api/v1/me/sessions", s.api(s.authed(s.apiMySessions)))
	m.Handle("DELETE /api/v1/me/sessions/{id}", s.api(s.authed(s.apiDeleteMySession)))

	// Pages.
	m.Handle("GET /{$}", s.page(s.root))
	m.Handle("GET /o/{org}/{$}", s.page(s.signedIn(s.home)))
	m.Handle("GET /o/{org}/login", s.page(s.loginPage))
	m.Handle("POST /o/{org}/login", s.limit("login", s.page(s.csrf(s.loginSubmit))))
	m.Handle("GET /o/{org}/update-password", s.page(s.updatePasswordPage))
	m.Handle("POST /o/{org}/update-password", s.limit("reset", s.page(s.csrf(s.updatePasswordSubmit))))
	m.Handle("GET /o/{org}/account", s.page(s.signedIn(s.accountPage)))
	m.Handle("POST /o/{org}/account/sessions/{id}/sign-out", s.page(s.csrf(s.signedIn(s.signOutDevice))))
	m.Handle("POST /o/{org}/logout", s.page(s.csrf(s.logoutSubmit)))

	// Everything else: the API's error shape, 404 or 405.
	m.Handle("/", s.api(s.notFound))
}
