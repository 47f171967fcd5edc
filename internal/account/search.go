package account

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// UserFilter selects users for Tx.ListUsers. Empty fields match everything.
// Text matches are case- and accent-insensitive and literal: % _ and quotes
// are ordinary characters.
type UserFilter struct {
	// Q matches the exact ID when it is a number, or a prefix or substring of
	// the email or of the name.
	Q string
	// ID matches exactly.
	ID *UserID
	// Email and Name match a prefix or substring.
	Email string
	Name  string
	// Role is a role's exact name.
	Role   string
	Status Status
	// Kinds are the kinds that may be listed; the service always sets it to
	// those the caller may see. Empty matches none.
	Kinds []Kind
	// After is the keyset cursor: only users after it in the list's order.
	After *UserCursor
	// Limit is the page size (1..500).
	Limit int
}

// UserCursor is a position in the user list: the last row of a page.
type UserCursor struct {
	NameKey string
	ID      UserID
}

// FoldName returns the form names are sorted and searched in: NFKD, without
// combining marks (accents), lower case, spaces collapsed. The store keeps it
// beside the name.
func FoldName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
