package account

import "log/slog"

// Secret is a password or token. It never prints; reveal it with string(s).
type Secret string

// String redacts the secret.
func (Secret) String() string { return "[redacted]" }

// GoString redacts the secret in %#v.
func (Secret) GoString() string { return "[redacted]" }

// LogValue redacts the secret in structured logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }
