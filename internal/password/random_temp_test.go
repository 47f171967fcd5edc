package password_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/password"
)

func TestHashTemporary(t *testing.T) {
	p := password.Temporary(16)
	h := password.HashTemporary(p)
	if !password.IsTemporaryHash(h) || strings.Contains(h, p) {
		t.Fatalf("hash %q", h)
	}
	if !password.VerifyTemporary(h, p) {
		t.Error("the temporary password does not verify")
	}
	if password.HashTemporary(p) == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{p + "x", strings.ToLower(p), ""} {
		if password.VerifyTemporary(h, bad) {
			t.Errorf("%q verifies", bad)
		}
	}
	for _, enc := range []string{"", "$lktemp$", "$lktemp$!!$x", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"} {
		if password.VerifyTemporary(enc, p) {
			t.Errorf("malformed %q verifies", enc)
		}
	}
}
