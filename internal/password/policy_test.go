package password_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkey/latchkey/internal/password"
)

func TestPolicy_Check(t *testing.T) {
	minV := password.Violation{Rule: "min_length", Message: "At least 12 characters"}
	maxV := password.Violation{Rule: "max_length", Message: "At most 256 characters"}
	const composed, decomposed = "\u00e9", "e\u0301" // é as one code point and as two
	tests := []struct {
		name   string
		policy password.Policy
		pw     string
		want   []password.Violation
	}{
		{"empty", password.DefaultPolicy(), "", []password.Violation{minV}},
		{"11", password.DefaultPolicy(), strings.Repeat("a", 11), []password.Violation{minV}},
		{"12", password.DefaultPolicy(), strings.Repeat("a", 12), nil},
		{"256", password.DefaultPolicy(), strings.Repeat("a", 256), nil},
		{"257", password.DefaultPolicy(), strings.Repeat("a", 257), []password.Violation{maxV}},
		{"10kB", password.DefaultPolicy(), strings.Repeat("a", 10_000), []password.Violation{maxV}},
		{"10kB_multibyte", password.DefaultPolicy(), strings.Repeat("€", 3400), []password.Violation{maxV}},
		// 12 code points of 4 bytes each: counted as 12, not 48 bytes.
		{"emoji_12", password.DefaultPolicy(), strings.Repeat("🔑", 12), nil},
		{"emoji_11", password.DefaultPolicy(), strings.Repeat("🔑", 11), []password.Violation{minV}},
		{"256_4byte", password.DefaultPolicy(), strings.Repeat("🔑", 256), nil},
		{"composed_11", password.DefaultPolicy(), "caf" + composed + strings.Repeat("x", 7), []password.Violation{minV}},
		// Two code points as typed, one after NFKC: still 11.
		{"decomposed_11", password.DefaultPolicy(), "caf" + decomposed + strings.Repeat("x", 7), []password.Violation{minV}},
		{"decomposed_12", password.DefaultPolicy(), "caf" + decomposed + strings.Repeat("x", 8), nil},
		{"spaces_count", password.DefaultPolicy(), "  tiny pw   ", nil},
		{"zero_is_default", password.Policy{}, strings.Repeat("a", 11), []password.Violation{minV}},
		{"custom_min", password.Policy{MinLength: 15, MaxLength: 64}, strings.Repeat("a", 14),
			[]password.Violation{{Rule: "min_length", Message: "At least 15 characters"}}},
		{"custom_max", password.Policy{MinLength: 8, MaxLength: 64}, strings.Repeat("a", 65),
			[]password.Violation{{Rule: "max_length", Message: "At most 64 characters"}}},
		{"both", password.Policy{MinLength: 20, MaxLength: 10}, strings.Repeat("a", 15), []password.Violation{
			{Rule: "min_length", Message: "At least 20 characters"}, {Rule: "max_length", Message: "At most 10 characters"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.policy.Check(tt.pw)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%+v.Check(%.40q…) mismatch (-want +got):\n%s", tt.policy, tt.pw, diff)
			}
		})
	}
}

// TestPolicy_Check_cheap checks that an oversize password is refused before
// normalising, which would copy the whole input (AUTH-CS long-password DoS).
func TestPolicy_Check_cheap(t *testing.T) {
	pw := strings.Repeat("e\u0301", 1<<20) // 3 MiB that NFKC must rewrite
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	v := password.DefaultPolicy().Check(pw)
	runtime.ReadMemStats(&after)
	if len(v) != 1 || v[0].Rule != "max_length" {
		t.Errorf("Check(3 MiB) = %v, want max_length", v)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("Check(3 MiB) allocated %d bytes, want it refused before normalising", n)
	}
}

func TestPolicy_Rules(t *testing.T) {
	tests := []struct {
		policy password.Policy
		want   []password.Rule
	}{
		{password.DefaultPolicy(), []password.Rule{{Rule: "min_length", Message: "At least 12 characters"}, {Rule: "max_length", Message: "At most 256 characters"}}},
		{password.Policy{MinLength: 1, MaxLength: 64}, []password.Rule{{Rule: "min_length", Message: "At least 1 character"}, {Rule: "max_length", Message: "At most 64 characters"}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.policy.Rules()); diff != "" {
			t.Errorf("%+v.Rules() mismatch (-want +got):\n%s", tt.policy, diff)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"e\u0301", "\u00e9"},
		{"\u00e9", "\u00e9"},
		{"ﬁ", "fi"},        // compatibility ligature
		{"Ａｂｃ１", "Abc1"},   // full-width
		{" a b ", " a b "}, // spaces kept: the whole password counts
		{"pass\x00word", "pass\x00word"},
	}
	for _, tt := range tests {
		if got := password.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
