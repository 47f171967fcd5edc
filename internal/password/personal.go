package password

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Minimum lengths, in code points, of the block_personal words: a name part
// shorter than minNamePart ("Al", "Li") is not a word of its own, and a word
// must have minContained to refuse a password that merely contains it.
const (
	minNamePart  = 3
	minContained = 4
)

// isPersonal reports whether lower, a lower-cased NFKC password, is one of
// c's words or mostly one of them (see Policy.CheckWith). Like Ory Kratos's
// identifier similarity check, it compares without separators, so that
// "Ann.Lee!" is the name "Ann Lee" and "metro_fire" the slug "metro-fire".
func isPersonal(lower string, c Context) bool {
	if c == (Context{}) {
		return false
	}
	pw := squash(lower)
	core := squash(strings.TrimFunc(lower, notLetter))
	pwLen := utf8.RuneCountInString(pw)
	for _, w := range personalWords(c) {
		if pw == w || core == w {
			return true
		}
		if n := utf8.RuneCountInString(w); n >= minContained && 2*n >= pwLen && strings.Contains(pw, w) {
			return true
		}
	}
	return false
}

// personalWords returns c's words, NFKC, lower-cased and squashed: the
// whole email, its local part (and the part before a "+tag"), the whole
// name, each name part of at least minNamePart code points, the
// organization's name and its slug.
func personalWords(c Context) []string {
	var ws []string
	add := func(s string) {
		if w := squash(strings.ToLower(Normalize(s))); w != "" {
			ws = append(ws, w)
		}
	}
	if email := strings.TrimSpace(c.Email); email != "" {
		add(email)
		if at := strings.LastIndexByte(email, '@'); at > 0 {
			local := email[:at]
			add(local)
			if plus := strings.IndexByte(local, '+'); plus > 0 {
				add(local[:plus])
			}
		}
	}
	add(c.Name)
	for _, part := range strings.FieldsFunc(c.Name, notLetterOrDigit) {
		if utf8.RuneCountInString(part) >= minNamePart {
			add(part)
		}
	}
	add(c.OrgName)
	add(c.OrgSlug)
	return ws
}

// squash returns s with only its letters, marks and digits.
func squash(s string) string {
	if strings.IndexFunc(s, notLetterOrDigit) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !notLetterOrDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsMark(r) }

func notLetterOrDigit(r rune) bool { return notLetter(r) && !unicode.IsDigit(r) }
