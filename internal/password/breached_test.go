package password_test

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/password"
)

// sha1Hex is the upper-case hex SHA-1 of pw, as Pwned Passwords writes it.
func sha1Hex(pw string) string {
	return fmt.Sprintf("%X", sha1.Sum([]byte(pw)))
}

// hashLines returns sorted "HASH:COUNT" lines for the passwords
// "breached-0" … "breached-(n-1)" and extra.
func hashLines(n int, extra ...string) []string {
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf("%s:%d", sha1Hex(fmt.Sprintf("breached-%d", i)), i+1))
	}
	for _, pw := range extra {
		lines = append(lines, sha1Hex(pw)+":42")
	}
	slices.Sort(lines)
	return lines
}

// writeBreached writes lines, each ended by eol, to a file in a temporary
// directory and returns its path.
func writeBreached(t testing.TB, name string, lines []string, eol string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, eol)+eol), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustOpenBreached(t testing.TB, path string) *password.Breached {
	t.Helper()
	b, err := password.OpenBreached(path)
	if err != nil {
		t.Fatalf("OpenBreached(%s): %v", path, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestBreached_Contains(t *testing.T) {
	const n = 3000
	lines := hashLines(n, "password1", "pässwörd")
	first, last := lines[0], lines[len(lines)-1]
	files := map[string]string{
		"lf":          strings.Join(lines, "\n") + "\n",
		"crlf":        strings.Join(lines, "\r\n") + "\r\n",
		"no_final_lf": strings.Join(lines, "\n"),
		"no_counts":   strings.Join(hashesOnly(lines), "\n") + "\n",
		"one_line":    sha1Hex("password1") + ":9\n",
	}
	for name, body := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pwned.txt")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			b := mustOpenBreached(t, path)
			in := []string{"password1"}
			out := []string{"password2", "Password1", "", "breached-" + fmt.Sprint(n)}
			if name != "one_line" {
				in = append(in, "pässwörd", "breached-0", "breached-1", fmt.Sprintf("breached-%d", n-1))
				for i := 0; i < n; i += 97 {
					in = append(in, fmt.Sprintf("breached-%d", i))
				}
			}
			for _, pw := range in {
				if ok, err := b.Contains(pw); !ok || err != nil {
					t.Errorf("Contains(%q) = %v, %v; want true", pw, ok, err)
				}
			}
			for _, pw := range out {
				if ok, err := b.Contains(pw); ok || err != nil {
					t.Errorf("Contains(%q) = %v, %v; want false", pw, ok, err)
				}
			}
			if name == "one_line" {
				return
			}
			// The first and last lines, by hash: the edges of the search.
			for _, line := range []string{first, last} {
				pw := passwordOf(t, line, n)
				if ok, err := b.Contains(pw); !ok || err != nil {
					t.Errorf("Contains(%q) (line %s) = %v, %v; want true", pw, line, ok, err)
				}
			}
		})
	}
}

// passwordOf finds which test password has the hash of line.
func passwordOf(t *testing.T, line string, n int) string {
	t.Helper()
	for _, pw := range append([]string{"password1", "pässwörd"}, func() []string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprintf("breached-%d", i))
		}
		return s
	}()...) {
		if strings.HasPrefix(line, sha1Hex(pw)) {
			return pw
		}
	}
	t.Fatalf("no test password for line %s", line)
	return ""
}

func hashesOnly(lines []string) []string {
	var out []string
	for _, l := range lines {
		h, _, _ := strings.Cut(l, ":")
		out = append(out, h)
	}
	return out
}

func TestOpenBreached_bad(t *testing.T) {
	lines := hashLines(3000, "password1")
	shuffled := slices.Clone(lines)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	reversed := slices.Clone(lines)
	slices.Reverse(reversed)
	lastSwapped := slices.Clone(lines) // only the last line out of order
	lastSwapped[len(lines)-1] = strings.Repeat("0", 40) + ":1"
	lower := slices.Clone(lines)
	for i := range lower {
		lower[i] = strings.ToLower(lower[i])
	}
	ntlm := slices.Clone(lines) // NTLM hashes are 32 hex digits
	for i := range ntlm {
		ntlm[i] = ntlm[i][8:]
	}
	tests := []struct {
		name string
		body string
	}{
		{"unsorted", strings.Join(shuffled, "\n") + "\n"},
		{"descending", strings.Join(reversed, "\n") + "\n"},
		{"last_line_unsorted", strings.Join(lastSwapped, "\n") + "\n"},
		{"lower_case_hex", strings.Join(lower, "\n") + "\n"},
		{"ntlm", strings.Join(ntlm, "\n") + "\n"},
		{"empty", ""},
		{"blank_lines", "\n\n\n"},
		{"text", "password1\npassword2\n"},
		{"bad_count", sha1Hex("a") + ":x\n"},
		{"long_line", sha1Hex("a") + ":" + strings.Repeat("1", 200) + "\n" + sha1Hex("b") + ":1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pwned.txt")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := password.OpenBreached(path)
			if err == nil {
				b.Close()
				t.Fatalf("OpenBreached(%s) accepted %.80q…", tt.name, tt.body)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("OpenBreached error %q does not name the file", err)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "absent.txt")
		_, err := password.OpenBreached(path)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("OpenBreached(missing) = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if _, err := password.OpenBreached(t.TempDir()); err == nil {
			t.Errorf("OpenBreached(directory) = nil error")
		}
	})
}

func TestBreached_closed(t *testing.T) {
	b, err := password.OpenBreached(writeBreached(t, "x.txt", hashLines(10, "password1"), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Contains("password1"); ok || err == nil {
		t.Errorf("Contains after Close = %v, %v; want an error", ok, err)
	}
}

func TestPolicy_Check_breached(t *testing.T) {
	b := mustOpenBreached(t, writeBreached(t, "p.txt", hashLines(3000, "password1", "ﬁnally-the-ﬁnal-one"), "\r\n"))
	p := password.Policy{MinLength: 8, Breached: b}
	tests := []struct {
		pw   string
		want []string
	}{
		{"password1", []string{"breached"}},
		{"breached-17", []string{"breached"}},
		{"breached-x7", nil},
		{"Password1", nil}, // the hash is of the exact password
		// Found as typed though NFKC rewrites the ligatures; and the NFKC
		// form of a breached password is found too.
		{"ﬁnally-the-ﬁnal-one", []string{"breached"}},
		{"password1\u200b", nil},
	}
	for _, tt := range tests {
		got, err := p.CheckWithError(tt.pw, password.Context{})
		if err != nil || !slices.Equal(ruleIDs(got), tt.want) {
			t.Errorf("CheckWithError(%q) = %v, %v; want %v", tt.pw, got, err, tt.want)
		}
	}
	// "ｐａｓｓｗｏｒｄ１" is "password1" after NFKC.
	if got := ruleIDs(p.Check("ｐａｓｓｗｏｒｄ１")); !slices.Equal(got, []string{"breached"}) {
		t.Errorf("Check(full-width password1) = %v, want [breached]", got)
	}
}

func BenchmarkBreachedContains(b *testing.B) {
	br := mustOpenBreached(b, writeBreached(b, "bench.txt", hashLines(100_000, "password1"), "\r\n"))
	for b.Loop() {
		if ok, err := br.Contains("password1"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
