// Package account is the heart of Latchkey: organizations, users, roles, sessions
// and the audit log, and the Service with one method per use case. It decides who
// may do what to whom; it knows nothing of HTTP or SQL.
package account

import (
	"errors"
	"fmt"
)

// Code is an API error code such as "not_found" or "email_taken".
type Code string

// The error codes of API.md that the account package returns.
const (
	CodeInternal           Code = "internal"
	CodeInvalid            Code = "invalid"
	CodeInvalidJSON        Code = "invalid_json"
	CodeUnknownField       Code = "unknown_field"
	CodeBodyTooLarge       Code = "body_too_large"
	CodeReadOnlyField      Code = "read_only_field"
	CodeUnauthorized       Code = "unauthorized"
	CodeInvalidCredentials Code = "invalid_credentials"
	CodeInvalidChallenge   Code = "invalid_challenge"
	CodeTempExpired        Code = "temporary_password_expired"
	CodeForbidden          Code = "forbidden"
	CodeNotFound           Code = "not_found"
	CodeMethodNotAllowed   Code = "method_not_allowed"
	CodeConflict           Code = "conflict"
	CodeEmailTaken         Code = "email_taken"
	CodeOrgTaken           Code = "org_taken"
	CodeRoleInUse          Code = "role_in_use"
	CodeLastAdmin          Code = "last_administrator"
	CodeSSOManaged         Code = "sso_managed"
	CodeUserDisabled       Code = "user_disabled"
	CodeInvalidToken       Code = "invalid_token"
	CodeSelfServiceOff     Code = "self_service_disabled"
	CodeInvalidCursor      Code = "invalid_cursor"
	CodeValidation         Code = "validation_failed"
	CodePasswordPolicy     Code = "password_policy"
	CodeThrottled          Code = "throttled"
	CodeOverloaded         Code = "overloaded"
)

// Detail is one item of an error's details, such as a failed password rule
// ({"rule": "min_length", "message": "..."}) or a rejected field.
type Detail struct {
	Rule    string `json:"rule,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error is the error returned across package boundaries. Code and Message are
// safe to show to the caller; Err is the cause, for the log only.
type Error struct {
	Code    Code
	Message string
	Details []Detail
	Op      string
	Err     error
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a caller-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: the Code of the first *Error in its chain,
// or CodeInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// wrap gives err an Op for the log, keeping an *Error's code and message, and
// turning anything else into an internal error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		c := *e
		if c.Op == "" {
			c.Op = op
		}
		return &c
	}
	return &Error{Code: CodeInternal, Message: "Internal error.", Op: op, Err: err}
}

// ErrNotFound is the store's answer for a missing row; the service turns it
// into a caller-safe not_found.
var ErrNotFound = &Error{Code: CodeNotFound, Message: "Not found."}

// errInvalidCredentials is the one answer for every failed sign-in.
var errInvalidCredentials = &Error{Code: CodeInvalidCredentials, Message: "The email or password is incorrect."}

// String returns the code as text.
func (c Code) String() string { return string(c) }
