package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/account"
)

// statusOf is the one table from error codes to HTTP statuses.
var statusOf = map[account.Code]int{
	account.CodeInvalid:            http.StatusBadRequest,
	account.CodeInvalidJSON:        http.StatusBadRequest,
	account.CodeUnknownField:       http.StatusBadRequest,
	account.CodeReadOnlyField:      http.StatusBadRequest,
	account.CodeBodyTooLarge:       http.StatusRequestEntityTooLarge,
	account.CodeUnauthorized:       http.StatusUnauthorized,
	account.CodeInvalidCredentials: http.StatusUnauthorized,
	account.CodeInvalidChallenge:   http.StatusUnauthorized,
	account.CodeTempExpired:        http.StatusUnauthorized,
	account.CodeForbidden:          http.StatusForbidden,
	account.CodeNotFound:           http.StatusNotFound,
	account.CodeMethodNotAllowed:   http.StatusMethodNotAllowed,
	account.CodeConflict:           http.StatusConflict,
	account.CodeEmailTaken:         http.StatusConflict,
	account.CodeOrgTaken:           http.StatusConflict,
	account.CodeRoleInUse:          http.StatusConflict,
	account.CodeLastAdmin:          http.StatusConflict,
	account.CodeSSOManaged:         http.StatusConflict,
	account.CodeUserDisabled:       http.StatusConflict,
	account.CodeInvalidToken:       http.StatusBadRequest,
	account.CodeSelfServiceOff:     http.StatusForbidden,
	account.CodeInvalidCursor:      http.StatusBadRequest,
	account.CodeValidation:         http.StatusUnprocessableEntity,
	account.CodePasswordPolicy:     http.StatusUnprocessableEntity,
	account.CodeThrottled:          http.StatusTooManyRequests,
	account.CodeOverloaded:         http.StatusServiceUnavailable,
	account.CodeInternal:           http.StatusInternalServerError,
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    account.Code     `json:"code"`
	Message string           `json:"message"`
	Details []account.Detail `json:"details,omitempty"`
}

// publicError returns what the caller may see of err, and its status. Causes
// stay in the log.
func publicError(err error) (int, errorJSON) {
	var e *account.Error
	if !errors.As(err, &e) || e.Code == account.CodeInternal {
		return http.StatusInternalServerError, errorJSON{Code: account.CodeInternal, Message: "Internal error."}
	}
	st, ok := statusOf[e.Code]
	if !ok {
		st = http.StatusBadRequest
	}
	return st, errorJSON{Code: e.Code, Message: e.Message, Details: e.Details}
}

// retryAfter sets Retry-After for throttled and overloaded answers.
func retryAfter(w http.ResponseWriter, status int, err error) {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return
	}
	secs := "1"
	var ra interface{ RetryAfter() string }
	if errors.As(err, &ra) {
		secs = ra.RetryAfter()
	}
	w.Header().Set("Retry-After", secs)
}

// writeAPIError renders err as the API's error JSON and logs its cause.
func (s *Server) writeAPIError(w http.ResponseWriter, r *http.Request, err error) {
	st, body := publicError(err)
	s.logError(r, st, err)
	retryAfter(w, st, err)
	if st == http.StatusMethodNotAllowed {
		var e *account.Error
		if errors.As(err, &e) && len(e.Details) > 0 {
			allow := make([]string, 0, len(e.Details))
			for _, d := range e.Details {
				allow = append(allow, d.Message)
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			body.Details = nil
		}
	}
	encode(w, st, errorBody{Error: body})
}

// logError records a failed request's cause; 5xx at error level.
func (s *Server) logError(r *http.Request, status int, err error) {
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "request failed", "request_id", requestID(r.Context()),
		"path", r.URL.Path, "status", status, "err", err)
}

// api is the only place where an API handler's error becomes a response.
func (s *Server) api(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeAPIError(w, r, err)
		}
	})
}

// encode writes v as JSON with the status.
func encode(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}

// notFound answers every unknown route: 405 with Allow when the path exists
// for other methods, 404 otherwise, both in the API's error shape.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) error {
	var allow []account.Detail
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if m == r.Method {
			continue
		}
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := s.mux.Handler(r2); p != "" && p != "/" {
			allow = append(allow, account.Detail{Message: m})
		}
	}
	if len(allow) > 0 {
		return &account.Error{Code: account.CodeMethodNotAllowed, Message: "This method is not allowed here.", Details: allow}
	}
	return &account.Error{Code: account.CodeNotFound, Message: "Not found."}
}
