package password_test

import (
	"slices"
	"testing"

	"github.com/latchkey/latchkey/internal/password"
)

func TestPolicy_CheckWith_blockPersonal(t *testing.T) {
	ann := password.Context{Email: "ann.lee+work@example.org", Name: "Ann Lee", OrgName: "Metro Fire", OrgSlug: "metro-fire"}
	jose := password.Context{Email: "jn@example.org", Name: "Jose\u0301 Nu\u0301n\u0303ez", OrgName: "Ayuntamiento", OrgSlug: "ayto"}
	tests := []struct {
		name     string
		c        password.Context
		pw       string
		personal bool
	}{
		{"local_part", ann, "ann.lee+work", true},
		{"local_part_no_tag", ann, "Ann.Lee", true},
		{"email", ann, "Ann.Lee+work@Example.org", true},
		{"email_core", ann, "ann.lee+work@example.org!!1", true},
		{"name_part_core", ann, "Ann2024!", true},
		{"name_part_2", ann, "LEE123456789", true},
		{"name_dotted", ann, "Ann.Lee!", true},
		{"name_joined", ann, "annlee", true},
		{"name_spaced", ann, "  ann lee  ", true},
		{"name_mostly", ann, "annlee1xy", true},
		{"org_name", ann, "metrofire2024", true},
		{"org_name_spaced", ann, "Metro Fire 2024!", true},
		{"org_slug", ann, "metro_fire", true},
		{"org_mostly", ann, "metrofire-rocks", true},
		{"org_leading_digits", ann, "2024MetroFire", true},
		// Containing a word is allowed when the rest is most of it.
		{"passphrase_short_part", ann, "correct-horse-ann-battery", false},
		{"passphrase_org", ann, "metro fire trucks are painted red", false},
		{"passphrase_name", ann, "ann lee likes long walks", false},
		{"name_part_inside", ann, "annabelle-1234", false}, // "ann" too short to count as contained
		{"name_part_half", ann, "Ann-xyz!", false},         // half, but "ann" is under 4
		{"unrelated", ann, "Tr0ub4dor&3", false},
		{"only_digits", ann, "123456789012", false},
		// Unicode: the name is decomposed, the passwords composed, and back.
		{"unicode_name", jose, "José Núñez", true},
		{"unicode_part", jose, "Núñez1990", true},
		{"unicode_core", jose, "¡¡josé!!", true},
		{"unicode_full_width", jose, "ＮＵＮＥＺ99", false}, // N, U, N, E, Z without accents: another word
		{"unicode_other", jose, "nunez1990", false},
		{"unicode_org", jose, "Ayuntamiento#1", true},
		{"short_slug_equal", jose, "AYTO!", true},
		{"short_slug_inside", jose, "aytoaytoayto", false}, // 4 of 12
		// No context, nothing personal.
		{"empty_context", password.Context{}, "ann", false},
		{"short_name_part", password.Context{Name: "Al Li"}, "Al2024!", false}, // parts under 3 are not words
		{"short_name_whole", password.Context{Name: "Al Li"}, "al.li", true},
	}
	p := password.Policy{MinLength: 1, BlockPersonal: true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.CheckWith(tt.pw, tt.c)
			if has := slices.Contains(ruleIDs(got), "block_personal"); has != tt.personal {
				t.Errorf("CheckWith(%q, %+v) = %v, want block_personal %v", tt.pw, tt.c, got, tt.personal)
			}
			if got := p.Check(tt.pw); got != nil {
				t.Errorf("Check(%q) without context = %v, want nil", tt.pw, got)
			}
			if off := (password.Policy{MinLength: 1}).CheckWith(tt.pw, tt.c); off != nil {
				t.Errorf("Policy{BlockPersonal: false}.CheckWith(%q) = %v, want nil", tt.pw, off)
			}
		})
	}
}
