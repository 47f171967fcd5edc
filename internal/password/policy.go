package password

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Rule ids, stable across releases: the API returns them in error details
// and clients may key translations on them.
const (
	RuleMinLength      = "min_length"
	RuleMaxLength      = "max_length"
	RuleRequireClasses = "require_classes"
	RuleBlockCommon    = "block_common"
	RuleBlockPersonal  = "block_personal"
	RuleBreached       = "breached"
	// RuleHistory is checked by the account package against the kept
	// hashes, which this package never sees; HistoryRule lists it.
	RuleHistory = "history"
)

// Policy is the password policy. A MinLength or MaxLength of zero means its
// default; the other fields are off at their zero value, so Policy{} checks
// lengths only and DefaultPolicy() is what an organization starts with.
// Lengths count Unicode code points of the NFKC form (NIST SP 800-63B
// §3.1.1.2).
type Policy struct {
	MinLength int // default 12
	MaxLength int // default 256

	// RequireClasses is how many of four classes must appear: lower-case
	// letters, upper-case letters, digits, and other characters (symbols,
	// spaces, and letters of scripts without case). 0 turns the rule off,
	// which NIST advises; values outside 0–4 are clamped.
	RequireClasses int

	// BlockCommon refuses the passwords of the embedded common list,
	// ignoring case and surrounding spaces.
	BlockCommon bool

	// BlockPersonal refuses the user's email or name and the organization's
	// name or slug as the password or its core (see CheckWith).
	BlockPersonal bool

	// Breached, when not nil, refuses passwords found in a Pwned Passwords
	// file (see OpenBreached). The caller owns it and closes it.
	Breached *Breached
}

// DefaultPolicy returns the default policy: 12 to 256 characters, no
// composition rule, common and personal passwords refused.
func DefaultPolicy() Policy {
	return Policy{MinLength: 12, MaxLength: 256, BlockCommon: true, BlockPersonal: true}
}

// Context holds the words a user's password must not be: those that an
// attacker who knows whose account it is would try first (NIST SP 800-63B
// §3.1.1.2, "context-specific words"). Empty fields are ignored.
type Context struct {
	Email   string // the user's email address
	Name    string // the user's display name
	OrgName string // the organization's name
	OrgSlug string // the organization's slug, as in /o/{slug}
}

// Violation is one rule a password breaks.
type Violation struct {
	Rule    string // a Rule* id
	Message string // safe to show to the user
}

// Rule is one rule of a policy, for listing on a form or in the API.
type Rule struct {
	Rule    string // a Rule* id
	Message string // e.g. "At least 12 characters"
}

// HistoryRule describes the history rule for n kept passwords (n ≥ 1), so
// that the account package, which checks it, can list it after Rules.
func HistoryRule(n int) Rule {
	if n <= 1 {
		return Rule{RuleHistory, "Not your previous password"}
	}
	return Rule{RuleHistory, fmt.Sprintf("Not one of your last %d passwords", n)}
}

func (p Policy) effective() Policy {
	d := DefaultPolicy()
	if p.MinLength <= 0 {
		p.MinLength = d.MinLength
	}
	if p.MaxLength <= 0 {
		p.MaxLength = d.MaxLength
	}
	p.RequireClasses = min(max(p.RequireClasses, 0), 4)
	return p
}

// Rules lists the active rules of p in a stable order: min_length,
// max_length, then require_classes, block_common, block_personal and
// breached when on. Check reports violations in the same order.
func (p Policy) Rules() []Rule {
	p = p.effective()
	rs := []Rule{minRule(p), maxRule(p)}
	if p.RequireClasses > 0 {
		rs = append(rs, classesRule(p))
	}
	if p.BlockCommon {
		rs = append(rs, commonRule)
	}
	if p.BlockPersonal {
		rs = append(rs, personalRule)
	}
	if p.Breached != nil {
		rs = append(rs, breachedRule)
	}
	return rs
}

var (
	commonRule   = Rule{RuleBlockCommon, "Not a commonly used password"}
	personalRule = Rule{RuleBlockPersonal, "Not your name, email or the organization's name"}
	breachedRule = Rule{RuleBreached, "Not found in known data breaches"}
)

func minRule(p Policy) Rule { return Rule{RuleMinLength, "At least " + characters(p.MinLength)} }
func maxRule(p Policy) Rule { return Rule{RuleMaxLength, "At most " + characters(p.MaxLength)} }

func classesRule(p Policy) Rule {
	return Rule{RuleRequireClasses, fmt.Sprintf("At least %d of: lower-case letters, upper-case letters, digits, symbols", p.RequireClasses)}
}

func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}

// Check is CheckWith without personal context: block_personal cannot fail.
func (p Policy) Check(pw string) []Violation {
	return p.CheckWith(pw, Context{})
}

// CheckWith returns every rule pw violates, in Rules order, or nil. pw is
// checked in its NFKC form, the one that gets hashed.
//
// A password over MaxLength is refused on length alone: one longer than
// 4×MaxLength bytes cannot fit and is refused before normalising, so a huge
// input costs nothing, and the other rules never run on an oversize one.
//
// block_personal refuses a password whose lower-cased form, or its core
// (the password without leading and trailing digits, symbols and spaces:
// "Ann2024!" → "ann"), equals one of the words of c, ignoring the
// separators inside both ("Ann.Lee!" is the name "Ann Lee"): the email, its
// local part, each name part of at least 3 letters, the whole name, the
// organization's name and slug. A word of at least 4 characters also
// refuses a password of which it makes up half or more ("metrofire2024x"
// for "Metro Fire"), but a long passphrase merely containing a name is fine.
//
// The breached lookup runs last. It fails closed: if the file cannot be
// read, breached is reported; CheckWithError also returns the cause.
func (p Policy) CheckWith(pw string, c Context) []Violation {
	v, _ := p.CheckWithError(pw, c)
	return v
}

// CheckWithError is CheckWith that also returns the error of a failed
// breached-password lookup, for the log; the violations then include
// breached, as CheckWith's do.
func (p Policy) CheckWithError(pw string, c Context) ([]Violation, error) {
	p = p.effective()
	if len(pw) > 4*p.MaxLength { // utf8.UTFMax bytes per code point at most
		return []Violation{Violation(maxRule(p))}, nil
	}
	norm := Normalize(pw)
	n := utf8.RuneCountInString(norm)
	var v []Violation
	if n < p.MinLength {
		v = append(v, Violation(minRule(p)))
	}
	if n > p.MaxLength {
		return append(v, Violation(maxRule(p))), nil
	}
	if p.RequireClasses > 0 && classes(norm) < p.RequireClasses {
		v = append(v, Violation(classesRule(p)))
	}
	lower := strings.ToLower(norm)
	if p.BlockCommon && isCommon(lower) {
		v = append(v, Violation(commonRule))
	}
	if p.BlockPersonal && isPersonal(lower, c) {
		v = append(v, Violation(personalRule))
	}
	var err error
	if p.Breached != nil {
		var found bool
		found, err = p.Breached.Contains(norm)
		// Breaches hold passwords as typed; ours may differ from them only
		// outside ASCII, where NFKC rewrites some characters.
		if err == nil && !found && norm != pw {
			found, err = p.Breached.Contains(pw)
		}
		if found || err != nil {
			v = append(v, Violation(breachedRule))
		}
	}
	return v, err
}

// classes counts which of lower-case, upper-case, digit and other runes s
// has. A letter without case (Han, Arabic, …) counts as other, so users of
// those scripts can meet the rule.
func classes(s string) int {
	var lower, upper, digit, other int
	for _, r := range s {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r), unicode.IsTitle(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			other = 1
		}
	}
	return lower + upper + digit + other
}

// Normalize returns the NFKC form of pw, which is what gets hashed: the same
// password typed on two keyboards, composed or decomposed, hashes the same.
// Callers hash and verify Normalize(pw).
func Normalize(pw string) string { return norm.NFKC.String(pw) }
