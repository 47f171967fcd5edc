package password_test

import (
	"slices"
	"testing"

	"github.com/latchkey/latchkey/internal/password"
)

func TestPolicy_Check_blockCommon(t *testing.T) {
	on := password.Policy{MinLength: 1, BlockCommon: true}
	tests := []struct {
		pw     string
		common bool
	}{
		{"password", true},
		{"123456", true},
		{"qwerty", true},
		{"iloveyou", true},
		{"PassWord123", true}, // "password123" is on the list
		{"PASSWORD123", true},
		{"password1234", true},
		{"P@ssw0rd", true},
		{"Qwerty", true},
		{"  password  ", true},            // surrounding spaces trimmed
		{"\tletmein\n", true},             // any surrounding white space
		{"ｐａｓｓｗｏｒｄ", true},                // full-width: NFKC gives "password"
		{"PASSW\u00d6RD", false},          // Ö is not O
		{"password\u200b", false},         // a zero-width space is not white space
		{"pass word", false},              // inner spaces kept
		{"password-correct-horse", false}, // the whole password, not a part
		{"correct horse battery staple", false},
		{"Tr0ub4dor&3-but-longer", false},
	}
	for _, tt := range tests {
		got := on.Check(tt.pw)
		if has := slices.Contains(ruleIDs(got), "block_common"); has != tt.common {
			t.Errorf("Policy{BlockCommon: true}.Check(%q) = %v, want block_common %v", tt.pw, got, tt.common)
		}
		if off := (password.Policy{MinLength: 1}).Check(tt.pw); off != nil {
			t.Errorf("Policy{BlockCommon: false}.Check(%q) = %v, want nil", tt.pw, off)
		}
	}
}
