package password_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/latchkey/latchkey/internal/password"
)

// small are cheap argon2id parameters for tests that are not about cost.
var small = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newHasher(t testing.TB, p password.Params) *password.Hasher {
	t.Helper()
	return password.NewHasher(p, password.NewLimiter(4, 64, 10*time.Second))
}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

func TestHasher_roundTrip(t *testing.T) {
	tests := []struct {
		name    string
		params  password.Params
		m, t, p string
	}{
		{"small", small, "64", "1", "1"},
		{"default", password.DefaultParams(), "19456", "2", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			h := newHasher(t, tt.params)
			var hashes atomic.Int32
			h.OnHash = func(time.Duration) { hashes.Add(1) }
			const pw = "correct horse battery staple ✓"
			enc, err := h.Hash(ctx, pw)
			if err != nil {
				t.Fatal(err)
			}
			m := phcRE.FindStringSubmatch(enc)
			if m == nil || m[1] != tt.m || m[2] != tt.t || m[3] != tt.p {
				t.Fatalf("Hash = %q, want PHC argon2id with m=%s,t=%s,p=%s", enc, tt.m, tt.t, tt.p)
			}
			if again, _ := h.Hash(ctx, pw); again == enc {
				t.Errorf("two hashes of one password are equal: salt not random")
			}
			ok, rehash, err := h.Verify(ctx, enc, pw)
			if err != nil || !ok || rehash {
				t.Errorf("Verify(right) = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
			for _, wrong := range []string{"", "correct horse battery staple", pw + " ", "Correct horse battery staple ✓"} {
				ok, rehash, err := h.Verify(ctx, enc, wrong)
				if err != nil || ok || rehash {
					t.Errorf("Verify(%q) = %v, %v, %v; want false, false, nil", wrong, ok, rehash, err)
				}
			}
			if got := hashes.Load(); got != 7 {
				t.Errorf("OnHash called %d times, want 7", got)
			}
		})
	}
}

func TestHasher_rehash(t *testing.T) {
	ctx := t.Context()
	const pw = "a perfectly fine password"
	current := newHasher(t, small)
	tests := []struct {
		name   string
		params password.Params
		rehash bool
	}{
		{"same", small, false},
		{"memory", password.Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"time", password.Params{Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"threads", password.Params{Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"salt", password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 32}, true},
		{"key", password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := newHasher(t, tt.params).Hash(ctx, pw)
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err := current.Verify(ctx, enc, pw)
			if err != nil || !ok || rehash != tt.rehash {
				t.Errorf("Verify(%q) = %v, %v, %v; want true, %v, nil", enc, ok, rehash, err, tt.rehash)
			}
		})
	}
}

func TestHasher_legacy(t *testing.T) {
	ctx := t.Context()
	const pw = "legacy password ünïcode"
	salt := []byte("0123456789abcdef")
	b64 := base64.RawStdEncoding.EncodeToString
	key256, err := pbkdf2.Key(sha256.New, pw, salt, 1000, 32)
	if err != nil {
		t.Fatal(err)
	}
	key512, err := pbkdf2.Key(sha512.New, pw, salt, 1200, 64)
	if err != nil {
		t.Fatal(err)
	}
	ab64 := func(b []byte) string {
		return base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./").WithPadding(base64.NoPadding).EncodeToString(b)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte(pw), 4)
	if err != nil {
		t.Fatal(err)
	}
	long := string(make([]byte, 72)) // 72 NUL bytes: the most bcrypt reads
	bcLong, err := bcrypt.GenerateFromPassword([]byte(long), 4)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, enc, pw string
		ok            bool
	}{
		{"pbkdf2_sha256_phc", "$pbkdf2-sha256$i=1000,l=32$" + b64(salt) + "$" + b64(key256), pw, true},
		{"pbkdf2_sha256_phc_wrong", "$pbkdf2-sha256$i=1000,l=32$" + b64(salt) + "$" + b64(key256), pw + "x", false},
		{"pbkdf2_sha512_phc", "$pbkdf2-sha512$i=1200,l=64$" + b64(salt) + "$" + b64(key512), pw, true},
		{"pbkdf2_sha512_phc_wrong_iter", "$pbkdf2-sha512$i=1201,l=64$" + b64(salt) + "$" + b64(key512), pw, false},
		{"pbkdf2_sha256_passlib", "$pbkdf2-sha256$1000$" + ab64(salt) + "$" + ab64(key256), pw, true},
		{"pbkdf2_sha512_passlib", "$pbkdf2-sha512$1200$" + ab64(salt) + "$" + ab64(key512), pw, true},
		{"django", "pbkdf2_sha256$1000$" + string(salt) + "$" + base64.StdEncoding.EncodeToString(key256), pw, true},
		{"django_wrong", "pbkdf2_sha256$1000$" + string(salt) + "$" + base64.StdEncoding.EncodeToString(key256), "legacy password unicode", false},
		{"django_vector", djangoVector, "hunter2 is not safe", true},
		{"passlib_vector", passlibVector, "password", true},
		{"passlib_vector_wrong", passlibVector, "Password", false},
		{"phc512_vector", phc512Vector, "pässwörd", true},
		{"bcrypt_2a", string(bc), pw, true},
		{"bcrypt_2b", "$2b$" + string(bc[4:]), pw, true},
		{"bcrypt_2y", "$2y$" + string(bc[4:]), pw, true},
		{"bcrypt_wrong", string(bc), "legacy password", false},
		{"bcrypt_vector", bcryptVector, "U*U", true},
		{"bcrypt_72", string(bcLong), long, true},
		// bcrypt would ignore the 73rd byte and accept this; the whole
		// password must count.
		{"bcrypt_73_not_truncated", string(bcLong), long + "x", false},
	}
	h := newHasher(t, small)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.enc, tt.pw)
			if err != nil || ok != tt.ok || rehash != tt.ok {
				t.Errorf("Verify(%q, %q) = %v, %v, %v; want %v, %v, nil", tt.enc, tt.pw, ok, rehash, err, tt.ok, tt.ok)
			}
		})
	}
}

func TestHasher_Verify_malformed(t *testing.T) {
	h := newHasher(t, small)
	for _, enc := range []string{"", "x", "$argon2id$v=19$m=4194304,t=2,p=1$" + salt16 + "$" + key32, "$2b$31$" + bcryptVector[7:]} {
		ok, rehash, err := h.Verify(t.Context(), enc, "pw")
		if ok || rehash || !errors.Is(err, password.ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v, %v; want ErrMalformedHash", enc, ok, rehash, err)
		}
	}
}

func TestHasher_VerifyDummy(t *testing.T) {
	ctx := t.Context()
	h := newHasher(t, password.DefaultParams())
	enc, err := h.Hash(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	var last time.Duration
	h.OnHash = func(d time.Duration) { last = d }
	if _, _, err := h.Verify(ctx, enc, "y"); err != nil {
		t.Fatal(err)
	}
	real := last
	if err := h.VerifyDummy(ctx, "y"); err != nil {
		t.Fatal(err)
	}
	// The dummy does the same argon2id work, so it cannot be an order of
	// magnitude cheaper; a generous ratio keeps this stable on busy CI.
	if last < real/4 {
		t.Errorf("VerifyDummy took %v, a real Verify %v", last, real)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := h.VerifyDummy(cancelled, "y"); !errors.Is(err, context.Canceled) {
		t.Errorf("VerifyDummy(cancelled) = %v, want context.Canceled", err)
	}
}

func TestNewHasher_params(t *testing.T) {
	tests := []struct {
		name     string
		in, want password.Params
	}{
		{"zero_is_default", password.Params{}, password.DefaultParams()},
		{"kept", small, small},
		{"bounded", password.Params{Memory: 1 << 30, Time: 100, Threads: 255, SaltLen: 1, KeyLen: 4096},
			password.Params{Memory: 256 * 1024, Time: 10, Threads: 16, SaltLen: 8, KeyLen: 128}},
		{"memory_8p", password.Params{Memory: 8, Time: 1, Threads: 4}, password.Params{Memory: 32, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 32}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := password.NewHasher(tt.in, nil).Params(); got != tt.want {
				t.Errorf("NewHasher(%+v).Params() = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func BenchmarkHashArgon2id(b *testing.B) {
	h := password.NewHasher(password.DefaultParams(), password.NewLimiter(1, 0, 0))
	ctx := b.Context()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashArgon2idParallel runs two hashes at a time, as two cores do.
func BenchmarkHashArgon2idParallel(b *testing.B) {
	h := password.NewHasher(password.DefaultParams(), password.NewLimiter(2, 2, 0))
	ctx := b.Context()
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkVerifyBcrypt10(b *testing.B) {
	enc, err := bcrypt.GenerateFromPassword([]byte("pw"), 10)
	if err != nil {
		b.Fatal(err)
	}
	h := password.NewHasher(password.DefaultParams(), password.NewLimiter(1, 0, 0))
	for b.Loop() {
		if _, _, err := h.Verify(b.Context(), string(enc), "pw"); err != nil {
			b.Fatal(err)
		}
	}
}
