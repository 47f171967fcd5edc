package password_test

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/password"
)

// keycloakVector is a Keycloak (before 19) pbkdf2-sha256 credential with a
// 512-bit key, computed with Python's hashlib for "correct horse".
const (
	kcSalt   = "ay86nA0eT1prfI2eDxorPA=="
	kcValue  = "n7xG/vvtB+6hYHBKvkeruuMLZ2iFf3soilM7ZGiyxNw/QuMEaLqWlFUvnC6J7+igAqI8UNYYrHA8ZupsIfn8ng=="
	kcVector = `{"algorithm":"pbkdf2-sha256","hashIterations":27500,"value":"` + kcValue + `","salt":"` + kcSalt + `"}`
	salt16p  = "c29tZXNhbHRzb21lc2FsdA=="                     // 16 bytes, padded
	key32p   = "ZGVyaXZlZGtleWRlcml2ZWRrZXlkZXJpdmVka2V5MDE=" // 32 bytes, padded
)

// kc builds a one-object credential from its parts.
func kc(alg, iter, value, salt string) string {
	return `{"algorithm":"` + alg + `","hashIterations":` + iter + `,"value":"` + value + `","salt":"` + salt + `"}`
}

// kcExport builds Keycloak's two objects, as objects or, quoted, as the
// strings a realm export holds.
func kcExport(alg, iter, value, salt string, quoted bool) string {
	cred := `{"hashIterations":` + iter + `,"algorithm":"` + alg + `","additionalParameters":{}}`
	secret := `{"value":"` + value + `","salt":"` + salt + `","additionalParameters":{}}`
	if quoted {
		cred, secret = strconv.Quote(cred), strconv.Quote(secret)
	}
	return `{"credentialData":` + cred + `,"secretData":` + secret + `}`
}

func TestParse_keycloak(t *testing.T) {
	export := `{"id":"0b7e4b1c-5f0e-4c1e-9d55-3b0c6f1d2a11","type":"password","userLabel":null,"createdDate":1700000000000,` +
		`"secretData":` + strconv.Quote(`{"value":"`+key32p+`","salt":"`+salt16p+`","additionalParameters":{}}`) +
		`,"credentialData":` + strconv.Quote(`{"hashIterations":210000,"algorithm":"pbkdf2-sha512","additionalParameters":{}}`) + `}`
	tests := []struct {
		name, in string
		alg      string
		iter     int
		key      int
	}{
		{"one_object", kcVector, password.PBKDF2SHA256, 27500, 64},
		{"one_object_sha512", kc("pbkdf2-sha512", "1000", key32p, salt16p), password.PBKDF2SHA512, 1000, 32},
		{"one_object_any_order", `{"salt":"` + salt16p + `","value":"` + key32p + `","hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}}`, password.PBKDF2SHA256, 27500, 32},
		{"one_object_spaces", `{ "algorithm" : "pbkdf2-sha256", "hashIterations" : 27500, "value" : "` + key32p + `", "salt" : "` + salt16p + `" }`, password.PBKDF2SHA256, 27500, 32},
		{"escaped_slash", kc("pbkdf2-sha256", "27500", strings.ReplaceAll(kcValue, "/", `\/`), kcSalt), password.PBKDF2SHA256, 27500, 64},
		{"export_objects", kcExport("pbkdf2-sha256", "27500", kcValue, kcSalt, false), password.PBKDF2SHA256, 27500, 64},
		{"export_strings", kcExport("pbkdf2-sha256", "27500", kcValue, kcSalt, true), password.PBKDF2SHA256, 27500, 64},
		{"export_with_metadata", export, password.PBKDF2SHA512, 210000, 32},
		{"max_iterations", kc("pbkdf2-sha256", "2000000", key32p, salt16p), password.PBKDF2SHA256, 2000000, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := password.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.in, err)
			}
			if h.Algorithm != tt.alg || h.Format != password.FormatKeycloak || h.Iterations != tt.iter || len(h.Key) != tt.key {
				t.Errorf("Parse(%s) = %s/%s i=%d key %d bytes; want %s/keycloak i=%d key %d bytes",
					tt.in, h.Algorithm, h.Format, h.Iterations, len(h.Key), tt.alg, tt.iter, tt.key)
			}
			if got := h.Encode(); got != tt.in {
				t.Errorf("Encode() = %s, want the input", got)
			}
			if s := h.String(); strings.Contains(s, salt16p) || strings.Contains(s, kcSalt) {
				t.Errorf("String() = %q reveals the salt", s)
			}
		})
	}
}

func TestParse_keycloakErrors(t *testing.T) {
	ok := func(iter string) string { return kc("pbkdf2-sha256", iter, key32p, salt16p) }
	tests := []struct{ name, in string }{
		{"sha1", kc("pbkdf2", "27500", key32p, salt16p)},
		{"sha1_named", kc("pbkdf2-sha1", "27500", key32p, salt16p)},
		{"argon2", kc("argon2", "3", key32p, salt16p)},
		{"algorithm_case", kc("PBKDF2-SHA256", "27500", key32p, salt16p)},
		{"low_iterations", ok("999")},
		{"huge_iterations", ok("2000001")},
		{"overflow_iterations", ok("99999999999999999999")},
		{"negative_iterations", ok("-27500")},
		{"float_iterations", ok("27500.0")},
		{"exponent_iterations", ok("2.75e4")},
		{"leading_zero_iterations", ok("027500")},
		{"string_iterations", ok(`"27500"`)},
		{"null_iterations", ok("null")},
		{"missing_iterations", `{"algorithm":"pbkdf2-sha256","value":"` + key32p + `","salt":"` + salt16p + `"}`},
		{"missing_salt", `{"algorithm":"pbkdf2-sha256","hashIterations":27500,"value":"` + key32p + `"}`},
		{"missing_value", `{"algorithm":"pbkdf2-sha256","hashIterations":27500,"salt":"` + salt16p + `"}`},
		{"missing_algorithm", `{"hashIterations":27500,"value":"` + key32p + `","salt":"` + salt16p + `"}`},
		{"number_salt", `{"algorithm":"pbkdf2-sha256","hashIterations":27500,"value":"` + key32p + `","salt":12}`},
		{"unknown_field", strings.TrimSuffix(ok("27500"), "}") + `,"pepper":"x"}`},
		{"field_case", strings.Replace(ok("27500"), "hashIterations", "HashIterations", 1)},
		{"duplicate_field", strings.TrimSuffix(ok("1000"), "}") + `,"hashIterations":2000000000}`},
		{"trailing_data", ok("27500") + `{}`},
		{"trailing_garbage", ok("27500") + `x`},
		{"truncated", strings.TrimSuffix(ok("27500"), "}")},
		{"not_object", `{`},
		{"array", `{[]}`},
		{"params_not_empty", strings.TrimSuffix(ok("27500"), "}") + `,"additionalParameters":{"x":["1"]}}`},
		{"params_null", strings.TrimSuffix(ok("27500"), "}") + `,"additionalParameters":null}`},
		{"unpadded_salt", kc("pbkdf2-sha256", "27500", key32p, strings.TrimRight(salt16p, "="))},
		{"urlsafe_value", kc("pbkdf2-sha256", "27500", strings.NewReplacer("+", "-", "/", "_").Replace(kcValue), kcSalt)},
		{"noncanonical_bits", kc("pbkdf2-sha256", "27500", key32p, "c29tZXNhbHRzb21lc2FsdB==")},
		{"short_salt", kc("pbkdf2-sha256", "27500", key32p, "c2FsdA==")},
		{"short_key", kc("pbkdf2-sha256", "27500", "a2V5a2V5", salt16p)},
		{"huge_key", kc("pbkdf2-sha256", "27500", base64.StdEncoding.EncodeToString(make([]byte, 129)), salt16p)},
		{"too_long", kc("pbkdf2-sha256", "27500", key32p, salt16p) + strings.Repeat(" ", 2048)},
		{"export_missing_secret", `{"credentialData":{"hashIterations":27500,"algorithm":"pbkdf2-sha256"}}`},
		{"export_missing_cred", `{"secretData":{"value":"` + key32p + `","salt":"` + salt16p + `"}}`},
		{"export_mixed_with_flat", strings.TrimSuffix(kcExport("pbkdf2-sha256", "27500", key32p, salt16p, false), "}") + `,"algorithm":"pbkdf2-sha512"}`},
		{"export_type_otp", strings.TrimSuffix(kcExport("pbkdf2-sha256", "27500", key32p, salt16p, false), "}") + `,"type":"otp"}`},
		{"export_value_in_cred", `{"credentialData":{"hashIterations":27500,"algorithm":"pbkdf2-sha256","value":"` + key32p + `"},"secretData":{"value":"` + key32p + `","salt":"` + salt16p + `"}}`},
		{"export_cred_params", strings.Replace(kcExport("pbkdf2-sha256", "27500", key32p, salt16p, false), `"additionalParameters":{}`, `"additionalParameters":{"k":["v"]}`, 1)},
		{"export_bad_string", `{"credentialData":"{\"hashIterations\":27500","secretData":{"value":"` + key32p + `","salt":"` + salt16p + `"}}`},
		{"export_string_trailing", strings.Replace(kcExport("pbkdf2-sha256", "27500", key32p, salt16p, true), `}","secretData"`, `}{}","secretData"`, 1)},
		{"export_sha1", kcExport("pbkdf2", "27500", key32p, salt16p, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := password.Parse(tt.in)
			if !errors.Is(err, password.ErrMalformedHash) {
				t.Errorf("Parse(%s) = %v, %v; want ErrMalformedHash", tt.in, h, err)
			}
		})
	}
}

func TestHasher_keycloak(t *testing.T) {
	ctx := t.Context()
	const pw = "legacy password ünïcode"
	salt := []byte("0123456789abcdef")
	std := base64.StdEncoding.EncodeToString
	key256, err := pbkdf2.Key(sha256.New, pw, salt, 27500, 32)
	if err != nil {
		t.Fatal(err)
	}
	key512, err := pbkdf2.Key(sha512.New, pw, salt, 1200, 64)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, enc, pw string
		ok            bool
	}{
		{"vector", kcVector, "correct horse", true},
		{"vector_wrong", kcVector, "correct horse ", false},
		{"sha256", kc("pbkdf2-sha256", "27500", std(key256), std(salt)), pw, true},
		{"sha256_wrong", kc("pbkdf2-sha256", "27500", std(key256), std(salt)), "legacy password unicode", false},
		{"sha256_wrong_iterations", kc("pbkdf2-sha256", "27501", std(key256), std(salt)), pw, false},
		{"sha256_as_sha512", kc("pbkdf2-sha512", "27500", std(key256), std(salt)), pw, false},
		{"sha512_export", kcExport("pbkdf2-sha512", "1200", std(key512), std(salt), true), pw, true},
		{"sha512_export_wrong", kcExport("pbkdf2-sha512", "1200", std(key512), std(salt), true), pw + "x", false},
	}
	h := newHasher(t, small)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.enc, tt.pw)
			if err != nil || ok != tt.ok || rehash != tt.ok {
				t.Errorf("Verify(%s, %q) = %v, %v, %v; want %v, %v, nil", tt.enc, tt.pw, ok, rehash, err, tt.ok, tt.ok)
			}
		})
	}
	// A Hash built by hand encodes to the one-object form, which parses back.
	parsed, err := password.Parse(kc("pbkdf2-sha512", "1200", std(key512), std(salt)))
	if err != nil {
		t.Fatal(err)
	}
	built := password.Hash{Algorithm: password.PBKDF2SHA512, Format: password.FormatKeycloak, Iterations: 1200, Salt: salt, Key: key512}
	if got, want := built.Encode(), parsed.Encode(); got != want {
		t.Errorf("Encode() of a built Hash = %s, want %s", got, want)
	}
}
