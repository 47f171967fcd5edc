package password_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/unicode/norm"

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
	minR := password.Rule{Rule: "min_length", Message: "At least 12 characters"}
	maxR := password.Rule{Rule: "max_length", Message: "At most 256 characters"}
	common := password.Rule{Rule: "block_common", Message: "Not a commonly used password"}
	personal := password.Rule{Rule: "block_personal", Message: "Not your name, email or the organization's name"}
	classes := func(n int) password.Rule {
		return password.Rule{Rule: "require_classes", Message: fmt.Sprintf("At least %d of: lower-case letters, upper-case letters, digits, symbols", n)}
	}
	breached := mustOpenBreached(t, writeBreached(t, "a.txt", hashLines(10, "password1"), "\n"))
	tests := []struct {
		name   string
		policy password.Policy
		want   []password.Rule
	}{
		{"default", password.DefaultPolicy(), []password.Rule{minR, maxR, common, personal}},
		{"zero", password.Policy{}, []password.Rule{minR, maxR}},
		{"one_character", password.Policy{MinLength: 1, MaxLength: 64}, []password.Rule{
			{Rule: "min_length", Message: "At least 1 character"}, {Rule: "max_length", Message: "At most 64 characters"}}},
		{"classes_2", password.Policy{RequireClasses: 2}, []password.Rule{minR, maxR, classes(2)}},
		{"classes_clamped", password.Policy{RequireClasses: 9}, []password.Rule{minR, maxR, classes(4)}},
		{"classes_negative", password.Policy{RequireClasses: -1}, []password.Rule{minR, maxR}},
		{"all", password.Policy{RequireClasses: 3, BlockCommon: true, BlockPersonal: true, Breached: breached}, []password.Rule{
			minR, maxR, classes(3), common, personal, {Rule: "breached", Message: "Not found in known data breaches"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.policy.Rules()); diff != "" {
				t.Errorf("%+v.Rules() mismatch (-want +got):\n%s", tt.policy, diff)
			}
		})
	}
}

func TestHistoryRule(t *testing.T) {
	tests := []struct {
		n    int
		want password.Rule
	}{
		{5, password.Rule{Rule: password.RuleHistory, Message: "Not one of your last 5 passwords"}},
		{2, password.Rule{Rule: "history", Message: "Not one of your last 2 passwords"}},
		{1, password.Rule{Rule: "history", Message: "Not your previous password"}},
	}
	for _, tt := range tests {
		if got := password.HistoryRule(tt.n); got != tt.want {
			t.Errorf("HistoryRule(%d) = %+v, want %+v", tt.n, got, tt.want)
		}
	}
}

func TestPolicy_Check_requireClasses(t *testing.T) {
	tests := []struct {
		pw   string
		want int // how many classes pw has
	}{
		{"aaaaaaaaaaaa", 1},
		{"AAAAAAAAAAAA", 1},
		{"111111111111", 1},
		{"!!!!!!!!!!!!", 1},
		{"            ", 1}, // a space is "other"
		{"aaaaaaAAAAAA", 2},
		{"aaaaaa111111", 2},
		{"aaaaaa!!!!!!", 2},
		{"aaaaAAAA1111", 3},
		{"aaaAAA111!!!", 4},
		{"aaa AAA 111.", 4},
		{"ééééééÉÉÉÉÉÉ", 2}, // cased letters outside ASCII
		{"ｐａｓｓ１２３４５６７８", 2}, // full-width: NFKC gives "pass12345678"
		{"密码密码密码密码密码密码", 1}, // letters without case count as other
		{"密码密码密码abc123", 3}, // other, lower, digit
		{"ǅǅǅǅǅǅǅǅǅǅǅǅ", 2}, // NFKC splits the title-case ǅ into D and ž
		{"١٢٣٤٥٦٧٨٩٠١٢", 1}, // Arabic-Indic digits are digits
		{"🔑🔑🔑🔑🔑🔑abcABC", 3}, // emoji are other
	}
	for _, tt := range tests {
		for req := 0; req <= 4; req++ {
			p := password.Policy{RequireClasses: req}
			got := p.Check(tt.pw)
			fail := req > tt.want
			if fail != (len(got) == 1 && got[0].Rule == "require_classes") || !fail && got != nil {
				t.Errorf("Policy{RequireClasses: %d}.Check(%q) = %v; %q has %d classes", req, tt.pw, got, tt.pw, tt.want)
			}
		}
	}
}

// TestPolicy_CheckWith_all checks that every failed rule is reported, in
// Rules order, not just the first.
func TestPolicy_CheckWith_all(t *testing.T) {
	b := mustOpenBreached(t, writeBreached(t, "b.txt", hashLines(1000, "password1", "Ann"), "\n"))
	all := password.Policy{MinLength: 12, MaxLength: 64, RequireClasses: 3, BlockCommon: true, BlockPersonal: true, Breached: b}
	ann := password.Context{Email: "ann@example.org", Name: "Ann Lee", OrgName: "Metro Fire", OrgSlug: "metro-fire"}
	tests := []struct {
		name string
		pw   string
		want []string
	}{
		{"everything", "password1", []string{"min_length", "require_classes", "block_common", "breached"}},
		{"short_personal", "Ann", []string{"min_length", "require_classes", "block_personal", "breached"}},
		{"common_personal", "michael", []string{"min_length", "require_classes", "block_common", "block_personal"}},
		{"fine", "Correct-horse-battery-9", nil},
		{"classes_only", "correct horse battery staple", []string{"require_classes"}},
		// Over max_length only max_length is reported: the other rules,
		// the breached lookup included, never run.
		{"too_long", strings.Repeat("password", 9), []string{"max_length"}},
		{"too_long_bytes", strings.Repeat("p", 257), []string{"max_length"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ann
			if tt.name == "common_personal" {
				c.Name = "Michael Lee"
			}
			if got := ruleIDs(all.CheckWith(tt.pw, c)); !cmp.Equal(tt.want, got) {
				t.Errorf("CheckWith(%q, %+v) = %v, want %v", tt.pw, c, got, tt.want)
			}
		})
	}
}

// TestPolicy_Check_oversizeSkipsRules checks that a password over
// max_length never reaches the other rules: a closed breached file would
// report breached if it were looked up.
func TestPolicy_Check_oversizeSkipsRules(t *testing.T) {
	b := mustOpenBreached(t, writeBreached(t, "c.txt", hashLines(10), "\n"))
	b.Close()
	p := password.Policy{MinLength: 8, MaxLength: 64, RequireClasses: 4, BlockCommon: true, BlockPersonal: true, Breached: b}
	for _, pw := range []string{strings.Repeat("a", 65), strings.Repeat("é", 65), strings.Repeat("e\u0301", 65)} {
		if got := ruleIDs(p.Check(pw)); !cmp.Equal(got, []string{"max_length"}) {
			t.Errorf("Check(%d code points) = %v, want [max_length]", utf8.RuneCountInString(pw), got)
		}
	}
	if got := ruleIDs(p.Check("aaaaaaaaaaaa")); !slices.Contains(got, "breached") {
		t.Errorf("Check with a closed breached file = %v, want breached (fail closed)", got)
	}
	if _, err := p.CheckWithError("aaaaaaaaaaaa", password.Context{}); err == nil {
		t.Errorf("CheckWithError with a closed breached file: nil error")
	}
}

// TestPolicy_Check_passphrase checks that long passphrases, the kind NIST
// wants allowed, pass every default rule.
func TestPolicy_Check_passphrase(t *testing.T) {
	ann := password.Context{Email: "ann.lee@example.org", Name: "Ann Lee", OrgName: "Metro Fire", OrgSlug: "metro-fire"}
	for _, pw := range []string{
		"correct horse battery staple and then some more words to make it long enough!!  ", // 82
		string([]rune(strings.Repeat("hüpfende Känguruhs am Strand ", 4))[:100]),
		strings.Repeat("ann lee ", 12) + "fire", // 100, made of names but mostly not one
		strings.Repeat("é", 100),
		strings.Repeat("🔑", 100),
	} {
		if n := utf8.RuneCountInString(pw); n < 80 {
			t.Fatalf("test passphrase %q is %d code points", pw, n)
		}
		if v := password.DefaultPolicy().CheckWith(pw, ann); v != nil {
			t.Errorf("DefaultPolicy().CheckWith(%q) = %v, want nil", pw, v)
		}
	}
}

// FuzzPolicyCheck checks that canonically equivalent inputs get the same
// verdict: NFC, NFD and the input as typed.
func FuzzPolicyCheck(f *testing.F) {
	for _, s := range []string{"", "password", "Caf\u00e9-Caf\u00e9-Caf\u00e9", "cafe\u0301-cafe\u0301-cafe\u0301", "Ann.Lee!2024", "ｐａｓｓｗｏｒｄ"} {
		f.Add(s)
	}
	p := password.Policy{MinLength: 8, MaxLength: 64, RequireClasses: 3, BlockCommon: true, BlockPersonal: true}
	c := password.Context{Email: "josé@example.org", Name: "José Núñez", OrgName: "Metro Fire", OrgSlug: "metro-fire"}
	f.Fuzz(func(t *testing.T, pw string) {
		if !utf8.ValidString(pw) || len(pw) > 64 {
			return
		}
		want := p.CheckWith(pw, c)
		for _, form := range []norm.Form{norm.NFC, norm.NFD} {
			if got := p.CheckWith(form.String(pw), c); !cmp.Equal(want, got) {
				t.Errorf("CheckWith(%q) = %v, but %v for its normal form %q", pw, want, got, form.String(pw))
			}
		}
	})
}

func ruleIDs(vs []password.Violation) []string {
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.Rule)
	}
	return ids
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

// BenchmarkPolicyCheck runs every rule but breached on a typical new
// password. Compare with BenchmarkHashArgon2id: the check must cost under
// 1% of one hash.
func BenchmarkPolicyCheck(b *testing.B) {
	p := password.Policy{MinLength: 12, MaxLength: 256, RequireClasses: 3, BlockCommon: true, BlockPersonal: true}
	c := password.Context{Email: "ann.lee@example.org", Name: "Ann Lee", OrgName: "Metro Fire", OrgSlug: "metro-fire"}
	for _, bb := range []struct{ name, pw string }{
		{"passphrase", "Correct horse battery staple 9"},
		{"common", "Password123!"},
		{"unicode", "Jose\u0301-Nu\u0301n\u0303ez-Ayuntamiento-1990"},
		{"max_256", strings.Repeat("Abc1 ", 51) + "x"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			p.CheckWith(bb.pw, c) // load the common list outside the timing
			for b.Loop() {
				p.CheckWith(bb.pw, c)
			}
		})
	}
}
