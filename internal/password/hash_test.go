package password_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/password"
)

// Hashes from other implementations (Python hashlib), to keep ours honest.
const (
	djangoVector  = "pbkdf2_sha256$1000$Xq8sSE3wDvpd$dJIkSWw7VNSDjsLR+aBt4apKttu90kuDHDft0C7HtIY="                                                             // "hunter2 is not safe"
	passlibVector = "$pbkdf2-sha256$29000$N2YMIWQsBWBMae09x1jrPQ$lEjTD4tvq5SOB5ctjdSxvnbzU5PQEfMComvCIxNEqq8"                                                  // "password"
	phc512Vector  = "$pbkdf2-sha512$i=1000,l=64$MDEyMzQ1Njc4OWFiY2RlZg$OH+PT74WOcBRC8O6wPnBynZWeDcHFtHyKcPrw2O/715a1ZD+SC49CGO0N86Cvjme0+Xl1P3lj8ayI3xe3fv6Cg" // "pässwörd"
	bcryptVector  = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"                                                                             // "U*U", OpenBSD
	argonValid    = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ZGVyaXZlZGtleWRlcml2ZWRrZXlkZXJpdmVka2V5MDE"
	salt16        = "c29tZXNhbHRzb21lc2FsdA"                      // 16 bytes
	key32         = "ZGVyaXZlZGtleWRlcml2ZWRrZXlkZXJpdmVka2V5MDE" // 32 bytes
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in       string
		alg, format    string
		m, tm, p, iter int
		cost           int
	}{
		{name: "argon2id", in: argonValid, alg: password.Argon2id, format: password.FormatPHC, m: 19456, tm: 2, p: 1},
		{name: "argon2id_max", in: "$argon2id$v=19$m=262144,t=10,p=16$" + salt16 + "$" + key32, alg: password.Argon2id, format: password.FormatPHC, m: 262144, tm: 10, p: 16},
		{name: "django", in: djangoVector, alg: password.PBKDF2SHA256, format: password.FormatDjango, iter: 1000},
		{name: "passlib", in: passlibVector, alg: password.PBKDF2SHA256, format: password.FormatPasslib, iter: 29000},
		{name: "pbkdf2_phc_sha512", in: phc512Vector, alg: password.PBKDF2SHA512, format: password.FormatPHC, iter: 1000},
		{name: "pbkdf2_phc_max", in: "$pbkdf2-sha256$i=2000000,l=32$" + salt16 + "$" + key32, alg: password.PBKDF2SHA256, format: password.FormatPHC, iter: 2000000},
		{name: "bcrypt_2a", in: bcryptVector, alg: password.Bcrypt, format: password.FormatBcrypt, cost: 5},
		{name: "bcrypt_2b", in: "$2b$14$" + bcryptVector[7:], alg: password.Bcrypt, format: password.FormatBcrypt, cost: 14},
		{name: "bcrypt_2y", in: "$2y$04$" + bcryptVector[7:], alg: password.Bcrypt, format: password.FormatBcrypt, cost: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := password.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if h.Algorithm != tt.alg || h.Format != tt.format {
				t.Errorf("Parse(%q) = %s/%s, want %s/%s", tt.in, h.Algorithm, h.Format, tt.alg, tt.format)
			}
			if int(h.Params.Memory) != tt.m || int(h.Params.Time) != tt.tm || int(h.Params.Threads) != tt.p {
				t.Errorf("Parse(%q).Params = %+v, want m=%d t=%d p=%d", tt.in, h.Params, tt.m, tt.tm, tt.p)
			}
			if h.Iterations != tt.iter || h.Cost != tt.cost {
				t.Errorf("Parse(%q) iterations, cost = %d, %d; want %d, %d", tt.in, h.Iterations, h.Cost, tt.iter, tt.cost)
			}
			if got := h.Encode(); got != tt.in {
				t.Errorf("Parse(%q).Encode() = %q", tt.in, got)
			}
			if s := h.String(); len(h.Salt) > 0 && strings.Contains(s, string(h.Salt)) {
				t.Errorf("Hash.String() = %q reveals the salt", s)
			}
		})
	}
}

func TestParse_errors(t *testing.T) {
	a := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt16 + "$" + key32 }
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"plaintext_dollar", "$hunter2$"},
		{"too_long", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 600) + "$" + key32},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"argon2id_v18", "$argon2id$v=18$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"argon2id_no_version", "$argon2id$m=19456,t=2,p=1$" + salt16 + "$" + key32},
		{"argon2id_too_few_fields", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16},
		{"argon2id_too_many_fields", argonValid + "$"},
		{"argon2id_trailing_space", argonValid + " "},
		{"argon2id_huge_m", a("m=4194304,t=2,p=1")},
		{"argon2id_m_overflow", a("m=99999999999,t=2,p=1")},
		{"argon2id_m_below_8p", a("m=8,t=1,p=2")},
		{"argon2id_t_zero", a("m=19456,t=0,p=1")},
		{"argon2id_huge_t", a("m=19456,t=11,p=1")},
		{"argon2id_p_zero", a("m=19456,t=2,p=0")},
		{"argon2id_huge_p", a("m=19456,t=2,p=17")},
		{"argon2id_param_order", a("t=2,m=19456,p=1")},
		{"argon2id_param_missing", a("m=19456,t=2")},
		{"argon2id_param_extra", a("m=19456,t=2,p=1,keyid=AAAA")},
		{"argon2id_leading_zero", a("m=019456,t=2,p=1")},
		{"argon2id_plus_sign", a("m=+19456,t=2,p=1")},
		{"argon2id_negative", a("m=-1,t=2,p=1")},
		{"argon2id_bad_salt_b64", "$argon2id$v=19$m=19456,t=2,p=1$c29tZX!hbHRzb21lc2FsdA$" + key32},
		{"argon2id_padded_salt", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "==$" + key32},
		{"argon2id_salt_newline", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRz\nb21lc2FsdA$" + key32},
		{"argon2id_noncanonical_bits", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdB$" + key32},
		{"argon2id_urlsafe_key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + "_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-8"},
		{"argon2id_short_salt", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key32},
		{"argon2id_short_key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + "a2V5"},
		{"argon2id_empty_key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$"},
		{"pbkdf2_sha1", "$pbkdf2$29000$N2YMIWQsBWBMae09x1jrPQ$" + key32},
		{"pbkdf2_low_iter", "$pbkdf2-sha256$999$N2YMIWQsBWBMae09x1jrPQ$lEjTD4tvq5SOB5ctjdSxvnbzU5PQEfMComvCIxNEqq8"},
		{"pbkdf2_huge_iter", "$pbkdf2-sha256$2000001$N2YMIWQsBWBMae09x1jrPQ$lEjTD4tvq5SOB5ctjdSxvnbzU5PQEfMComvCIxNEqq8"},
		{"pbkdf2_phc_huge_iter", "$pbkdf2-sha256$i=4000000000,l=32$" + salt16 + "$" + key32},
		{"pbkdf2_phc_l_mismatch", "$pbkdf2-sha256$i=1000,l=64$" + salt16 + "$" + key32},
		{"pbkdf2_phc_no_l", "$pbkdf2-sha256$i=1000$" + salt16 + "$" + key32},
		{"pbkdf2_phc_fields", "$pbkdf2-sha256$i=1000,l=32$" + salt16},
		{"pbkdf2_passlib_plus", "$pbkdf2-sha256$29000$N2YMIWQsBWBMae09x1jrPQ$lEjTD4tvq5SOB5ctjdSxvnbzU5PQEfMComvCIxNEq+8"},
		{"pbkdf2_huge_key", "$pbkdf2-sha512$i=1000,l=192$" + salt16 + "$" + strings.Repeat("A", 256)},
		{"django_sha1", "pbkdf2_sha1$1000$Xq8sSE3wDvpd$dJIkSWw7VNSDjsLR+aBt4apKttu90kuDHDft0C7HtIY="},
		{"django_fields", "pbkdf2_sha256$1000$Xq8sSE3wDvpd"},
		{"django_extra_field", djangoVector + "$x"},
		{"django_iter_text", "pbkdf2_sha256$many$Xq8sSE3wDvpd$dJIkSWw7VNSDjsLR+aBt4apKttu90kuDHDft0C7HtIY="},
		{"django_huge_iter", "pbkdf2_sha256$99999999$Xq8sSE3wDvpd$dJIkSWw7VNSDjsLR+aBt4apKttu90kuDHDft0C7HtIY="},
		{"django_unpadded", "pbkdf2_sha256$1000$Xq8sSE3wDvpd$dJIkSWw7VNSDjsLR+aBt4apKttu90kuDHDft0C7HtIY"},
		{"django_short_salt", "pbkdf2_sha256$1000$abc$dJIkSWw7VNSDjsLR+aBt4apKttu90kuDHDft0C7HtIY="},
		{"django_salt_space", "pbkdf2_sha256$1000$Xq8s SE3wDvpd$dJIkSWw7VNSDjsLR+aBt4apKttu90kuDHDft0C7HtIY="},
		{"bcrypt_2x", "$2x$05$" + bcryptVector[7:]},
		{"bcrypt_2", "$2$05$" + bcryptVector[7:]},
		{"bcrypt_huge_cost", "$2b$31$" + bcryptVector[7:]},
		{"bcrypt_cost_15", "$2b$15$" + bcryptVector[7:]},
		{"bcrypt_cost_3", "$2b$03$" + bcryptVector[7:]},
		{"bcrypt_cost_text", "$2b$1a$" + bcryptVector[7:]},
		{"bcrypt_short", bcryptVector[:59]},
		{"bcrypt_long", bcryptVector + "x"},
		{"bcrypt_bad_char", bcryptVector[:59] + "!"},
		{"bcrypt_no_separator", "$2b$05x" + bcryptVector[7:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := password.Parse(tt.in)
			if !errors.Is(err, password.ErrMalformedHash) {
				t.Errorf("Parse(%q) = %v, %v; want ErrMalformedHash", tt.in, h, err)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, that what it accepts is within
// the import bounds (restated here, not taken from the package) and that it
// re-encodes to its input, which rules out lenient parsing.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		argonValid, djangoVector, passlibVector, phc512Vector, bcryptVector,
		"$2y$04$" + bcryptVector[7:],
		"$pbkdf2-sha256$i=1000,l=32$" + salt16 + "$" + key32,
		"$argon2id$v=19$m=4194304,t=2,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=18$m=19456,t=2,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=19$m=8,t=1,p=1$" + salt16 + "$" + key32,
		"$2b$31$" + bcryptVector[7:], "", "$", "$$$$", "pbkdf2_sha256$$$",
		kcVector,
		`{"algorithm":"pbkdf2-sha512","hashIterations":1000,"value":"` + key32p + `","salt":"` + salt16p + `","additionalParameters":{}}`,
		`{"credentialData":{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}},"secretData":{"value":"` + key32p + `","salt":"` + salt16p + `","additionalParameters":{}}}`,
		`{"type":"password","credentialData":"{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\"}","secretData":"{\"value\":\"` + key32p + `\",\"salt\":\"` + salt16p + `\"}"}`,
		`{"algorithm":"pbkdf2","hashIterations":27500,"value":"` + key32p + `","salt":"` + salt16p + `"}`,
		`{"algorithm":"pbkdf2-sha256","hashIterations":1e9,"value":"","salt":""}`,
		"{", "{}", `{"a":1,"a":2}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		h, err := password.Parse(in)
		if err != nil {
			if !errors.Is(err, password.ErrMalformedHash) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrMalformedHash", in, err)
			}
			return
		}
		if got := h.Encode(); got != in {
			t.Fatalf("Parse(%q).Encode() = %q", in, got)
		}
		switch h.Algorithm {
		case password.Argon2id:
			p := h.Params
			if p.Memory > 256*1024 || p.Time < 1 || p.Time > 10 || p.Threads < 1 || p.Threads > 16 || p.Memory < 8*uint32(p.Threads) {
				t.Fatalf("Parse(%q) accepted params %+v", in, p)
			}
			if int(p.SaltLen) != len(h.Salt) || int(p.KeyLen) != len(h.Key) {
				t.Fatalf("Parse(%q): params %+v disagree with salt %d, key %d", in, p, len(h.Salt), len(h.Key))
			}
			checkLens(t, in, h)
		case password.PBKDF2SHA256, password.PBKDF2SHA512:
			if h.Iterations < 1000 || h.Iterations > 2_000_000 {
				t.Fatalf("Parse(%q) accepted %d iterations", in, h.Iterations)
			}
			checkLens(t, in, h)
		case password.Bcrypt:
			if h.Cost < 4 || h.Cost > 14 || len(in) != 60 {
				t.Fatalf("Parse(%q) accepted bcrypt cost %d", in, h.Cost)
			}
		default:
			t.Fatalf("Parse(%q) returned algorithm %q", in, h.Algorithm)
		}
	})
}

func checkLens(t *testing.T, in string, h password.Hash) {
	t.Helper()
	if len(h.Salt) < 8 || len(h.Salt) > 64 || len(h.Key) < 16 || len(h.Key) > 128 {
		t.Fatalf("Parse(%q) accepted salt %d, key %d bytes", in, len(h.Salt), len(h.Key))
	}
}
