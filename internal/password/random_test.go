package password_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"unicode"

	"github.com/latchkey/latchkey/internal/password"
)

func TestTemporary(t *testing.T) {
	const lookAlikes = "0Oo1lIi"
	tests := []struct{ n, want int }{{12, 12}, {20, 20}, {0, 12}, {-5, 12}, {11, 12}}
	for _, tt := range tests {
		seen := make(map[string]bool)
		for range 1000 {
			pw := password.Temporary(tt.n)
			if len(pw) != tt.want {
				t.Fatalf("Temporary(%d) = %q, %d long, want %d", tt.n, pw, len(pw), tt.want)
			}
			if strings.ContainsAny(pw, lookAlikes) {
				t.Fatalf("Temporary(%d) = %q has a look-alike of %q", tt.n, pw, lookAlikes)
			}
			var lower, upper, digit bool
			for _, r := range pw {
				switch {
				case r < 128 && unicode.IsLower(r):
					lower = true
				case r < 128 && unicode.IsUpper(r):
					upper = true
				case r >= '0' && r <= '9':
					digit = true
				default:
					t.Fatalf("Temporary(%d) = %q has %q, not a letter or digit", tt.n, pw, r)
				}
			}
			if !lower || !upper || !digit {
				t.Fatalf("Temporary(%d) = %q lacks a class (lower %v, upper %v, digit %v)", tt.n, pw, lower, upper, digit)
			}
			if seen[pw] {
				t.Fatalf("Temporary(%d) repeated %q", tt.n, pw)
			}
			seen[pw] = true
		}
		if p := password.DefaultPolicy(); tt.want >= p.MinLength && p.Check(password.Temporary(tt.n)) != nil {
			t.Errorf("Temporary(%d) fails the default policy", tt.n)
		}
	}
}

func TestNewToken(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		tok, digest := password.NewToken("lk_")
		raw, ok := strings.CutPrefix(tok, "lk_")
		if !ok {
			t.Fatalf("NewToken(lk_) = %q, want the prefix", tok)
		}
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err != nil || len(b) != 32 {
			t.Fatalf("NewToken body %q: %d bytes, %v; want 32 bytes of unpadded base64url", raw, len(b), err)
		}
		want := sha256.Sum256([]byte(tok))
		if !bytes.Equal(digest, want[:]) || !bytes.Equal(password.Digest(tok), want[:]) {
			t.Fatalf("digest of %q is not SHA-256 of the token", tok)
		}
		if seen[tok] {
			t.Fatalf("NewToken repeated %q", tok)
		}
		seen[tok] = true
	}
	if bytes.Equal(password.Digest("lk_a"), password.Digest("lk_b")) {
		t.Errorf("Digest ignores its input")
	}
}
