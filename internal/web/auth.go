package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// Cookie names; with an https base URL they carry the __Host- prefix, which
// browsers accept only with Secure, Path=/ and no Domain.
const (
	sessionCookie   = "latchkey_session"
	challengeCookie = "latchkey_challenge"
	csrfCookie      = "latchkey_csrf"
)

func (s *Server) cookieName(base string) string {
	if s.secure {
		return "__Host-" + base
	}
	return base
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: s.cookieName(name), Value: value, Path: "/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode}
	if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	} else if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (s *Server) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(s.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// bearer returns the token of an Authorization: Bearer header. A token in
// the URL is never looked at.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(tok), true
}

// authenticate returns the Actor of the request's bearer token or, without
// an Authorization header, of its session cookie.
func (s *Server) authenticate(r *http.Request) (account.Actor, error) {
	tok, ok := bearer(r)
	if !ok {
		tok = s.cookie(r, sessionCookie)
	}
	return s.accounts.Authenticate(r.Context(), account.Secret(tok), client(r))
}

// authed gives an API handler the signed-in Actor, or answers 401.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, account.Actor) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := s.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="latchkey"`)
			return err
		}
		return h(w, r, a)
	}
}
