package account

import "time"

// SessionID identifies a session.
type SessionID int64

// Session is a signed-in device: a web browser or an app holding a bearer token.
// Only the SHA-256 digest of its token is stored.
type Session struct {
	ID         SessionID
	OrgID      OrgID
	UserID     UserID
	TokenHash  []byte
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

// ChallengeKind says what a challenge token allows.
type ChallengeKind string

// ChallengeNewPassword allows only choosing a new password.
const ChallengeNewPassword ChallengeKind = "new_password_required"

// Challenge is a short-lived, single-use token handed out instead of a session
// when a sign-in needs another step first. Only its digest is stored.
type Challenge struct {
	ID        int64
	OrgID     OrgID
	UserID    UserID
	Kind      ChallengeKind
	TokenHash []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}
