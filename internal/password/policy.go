package password

import (
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Rule ids, stable across releases: the API returns them in error details
// and clients may key translations on them.
const (
	RuleMinLength = "min_length"
	RuleMaxLength = "max_length"
)

// Policy is the password policy. The zero value of a field means its
// default, so Policy{} is DefaultPolicy(). Lengths count Unicode code points
// of the NFKC form (NIST SP 800-63B §3.1.1.2).
type Policy struct {
	MinLength int // default 12
	MaxLength int // default 256
}

// DefaultPolicy returns the default policy: 12 to 256 characters.
func DefaultPolicy() Policy { return Policy{MinLength: 12, MaxLength: 256} }

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

func (p Policy) effective() Policy {
	d := DefaultPolicy()
	if p.MinLength <= 0 {
		p.MinLength = d.MinLength
	}
	if p.MaxLength <= 0 {
		p.MaxLength = d.MaxLength
	}
	return p
}

// Rules lists the rules of p in a stable order.
func (p Policy) Rules() []Rule {
	p = p.effective()
	return []Rule{
		{RuleMinLength, "At least " + characters(p.MinLength)},
		{RuleMaxLength, "At most " + characters(p.MaxLength)},
	}
}

func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}

// Check returns every rule pw violates, in Rules order, or nil. pw is
// counted after NFKC normalisation; one longer than 4×MaxLength bytes cannot
// fit and is refused before normalising, so a huge input costs nothing.
func (p Policy) Check(pw string) []Violation {
	p = p.effective()
	rules := p.Rules()
	if len(pw) > 4*p.MaxLength {
		return []Violation{Violation(rules[1])}
	}
	n := utf8.RuneCountInString(Normalize(pw))
	var v []Violation
	if n < p.MinLength {
		v = append(v, Violation(rules[0]))
	}
	if n > p.MaxLength {
		v = append(v, Violation(rules[1]))
	}
	return v
}

// Normalize returns the NFKC form of pw, which is what gets hashed: the same
// password typed on two keyboards, composed or decomposed, hashes the same.
// Callers hash and verify Normalize(pw).
func Normalize(pw string) string { return norm.NFKC.String(pw) }
