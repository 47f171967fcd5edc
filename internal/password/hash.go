package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformedHash is wrapped by every error about a stored hash that could
// not be parsed or whose parameters are out of bounds. The detail names the
// field, never the salt or key.
var ErrMalformedHash = errors.New("password: malformed hash")

// Algorithms reported in Hash.Algorithm.
const (
	Argon2id     = "argon2id"
	PBKDF2SHA256 = "pbkdf2-sha256"
	PBKDF2SHA512 = "pbkdf2-sha512"
	Bcrypt       = "bcrypt"
)

// Encodings reported in Hash.Format.
const (
	FormatPHC     = "phc"     // $argon2id$v=19$m=…,t=…,p=…$salt$key, $pbkdf2-sha256$i=…,l=…$salt$key
	FormatPasslib = "passlib" // $pbkdf2-sha256$rounds$salt$key, adapted base64
	FormatDjango  = "django"  // pbkdf2_sha256$iterations$salt$base64key
	FormatBcrypt  = "bcrypt"  // $2a$, $2b$, $2y$
	// FormatKeycloak (keycloak.go): {"algorithm":"pbkdf2-sha256","hashIterations":…,"value":…,"salt":…}
)

// Hash is a parsed stored hash. Its fields are within the import bounds.
type Hash struct {
	Algorithm  string // Argon2id, PBKDF2SHA256, PBKDF2SHA512 or Bcrypt
	Format     string // FormatPHC, FormatPasslib, FormatDjango, FormatBcrypt or FormatKeycloak
	Params     Params // argon2id only; SaltLen and KeyLen are those of Salt and Key
	Iterations int    // pbkdf2 only
	Cost       int    // bcrypt only
	Salt       []byte // argon2id and pbkdf2; Django's salt string as bytes
	Key        []byte // argon2id and pbkdf2: the derived key

	bcrypt string // the whole bcrypt hash, which x/crypto/bcrypt parses itself
	raw    string // keycloak: the JSON as parsed, which Encode returns
}

var (
	phcB64     = base64.RawStdEncoding.Strict()
	passlibB64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./").WithPadding(base64.NoPadding).Strict()
	djangoB64  = base64.StdEncoding.Strict()
)

// Parse parses a stored hash without verifying it, so that imports can
// refuse a bad password_hash up front. It accepts exactly the forms Verify
// does, with exact field counts, canonical numbers and canonical base64, and
// checks the cost bounds: argon2id m ≤ 256 MiB, t 1–10, p 1–16, m ≥ 8p;
// bcrypt cost 4–14; pbkdf2 1,000–2,000,000 iterations; salts 8–64 bytes and
// keys 16–128 bytes. Any other input returns an error wrapping
// ErrMalformedHash. A parsed hash re-encodes to its input (Hash.Encode).
//
// Keycloak's credential export, a JSON object starting with '{', is parsed
// as strictly, with the pbkdf2 bounds; see parseKeycloak.
func Parse(encoded string) (Hash, error) {
	switch {
	case encoded == "":
		return Hash{}, malformed("empty")
	case encoded[0] == '{':
		return parseKeycloak(encoded)
	case len(encoded) > maxEncodedLen:
		return Hash{}, malformed("too long")
	case strings.HasPrefix(encoded, "$argon2id$"):
		return parseArgon2id(encoded)
	case strings.HasPrefix(encoded, "$pbkdf2-sha256$"), strings.HasPrefix(encoded, "$pbkdf2-sha512$"):
		return parsePBKDF2(encoded)
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return parseBcrypt(encoded)
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		return parseDjango(encoded)
	default:
		return Hash{}, malformed("unsupported format")
	}
}

func malformed(detail string) error {
	return fmt.Errorf("%w: %s", ErrMalformedHash, detail)
}

// parseArgon2id parses $argon2id$v=19$m=M,t=T,p=P$salt$key.
func parseArgon2id(s string) (Hash, error) {
	f := strings.Split(s, "$")
	if len(f) != 6 {
		return Hash{}, malformed("argon2id: want 5 fields")
	}
	if f[2] != "v=19" {
		return Hash{}, malformed("argon2id: version is not v=19")
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return Hash{}, malformed("argon2id: want m=,t=,p=")
	}
	m, okM := param(kv[0], "m=")
	t, okT := param(kv[1], "t=")
	p, okP := param(kv[2], "p=")
	if !okM || !okT || !okP {
		return Hash{}, malformed("argon2id: want m=,t=,p= as decimal numbers")
	}
	if m > maxArgon2Memory || t < 1 || t > maxArgon2Time || p < 1 || p > maxArgon2Threads || m < 8*p {
		return Hash{}, malformed(fmt.Sprintf("argon2id: m=%d,t=%d,p=%d out of bounds", m, t, p))
	}
	salt, key, err := saltKey(phcB64, f[4], f[5], "argon2id")
	if err != nil {
		return Hash{}, err
	}
	return Hash{
		Algorithm: Argon2id,
		Format:    FormatPHC,
		Params: Params{
			Memory:  uint32(m),
			Time:    uint32(t),
			Threads: uint8(p),
			SaltLen: uint32(len(salt)),
			KeyLen:  uint32(len(key)),
		},
		Salt: salt,
		Key:  key,
	}, nil
}

// parsePBKDF2 parses $pbkdf2-sha256$i=N,l=L$salt$key (PHC, as Ory Kratos
// writes it) and $pbkdf2-sha256$N$salt$key (passlib, adapted base64).
func parsePBKDF2(s string) (Hash, error) {
	f := strings.Split(s, "$")
	if len(f) != 5 {
		return Hash{}, malformed("pbkdf2: want 4 fields")
	}
	h := Hash{Algorithm: f[1]}
	enc := passlibB64
	keyLen := -1
	if strings.HasPrefix(f[2], "i=") {
		h.Format, enc = FormatPHC, phcB64
		kv := strings.Split(f[2], ",")
		if len(kv) != 2 {
			return Hash{}, malformed("pbkdf2: want i=,l=")
		}
		i, okI := param(kv[0], "i=")
		l, okL := param(kv[1], "l=")
		if !okI || !okL {
			return Hash{}, malformed("pbkdf2: want i=,l= as decimal numbers")
		}
		h.Iterations, keyLen = int(i), int(l)
	} else {
		h.Format = FormatPasslib
		i, ok := decimal(f[2])
		if !ok {
			return Hash{}, malformed("pbkdf2: rounds is not a decimal number")
		}
		h.Iterations = int(i)
	}
	if h.Iterations < minPBKDF2Iter || h.Iterations > maxPBKDF2Iter {
		return Hash{}, malformed(fmt.Sprintf("pbkdf2: %d iterations out of bounds", h.Iterations))
	}
	var err error
	if h.Salt, h.Key, err = saltKey(enc, f[3], f[4], "pbkdf2"); err != nil {
		return Hash{}, err
	}
	if keyLen >= 0 && keyLen != len(h.Key) {
		return Hash{}, malformed("pbkdf2: l= does not match the key")
	}
	return h, nil
}

// parseDjango parses Django's pbkdf2_sha256$iterations$salt$base64key.
func parseDjango(s string) (Hash, error) {
	f := strings.Split(s, "$")
	if len(f) != 4 {
		return Hash{}, malformed("django: want 4 fields")
	}
	i, ok := decimal(f[1])
	if !ok {
		return Hash{}, malformed("django: iterations is not a decimal number")
	}
	if i < minPBKDF2Iter || i > maxPBKDF2Iter {
		return Hash{}, malformed(fmt.Sprintf("django: %d iterations out of bounds", i))
	}
	salt := f[2]
	if len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return Hash{}, malformed(fmt.Sprintf("django: %d-byte salt out of bounds", len(salt)))
	}
	for i := range len(salt) {
		if salt[i] <= ' ' || salt[i] > '~' {
			return Hash{}, malformed("django: salt is not printable ASCII")
		}
	}
	key, ok := decode(djangoB64, f[3])
	if !ok {
		return Hash{}, malformed("django: hash is not canonical base64")
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return Hash{}, malformed(fmt.Sprintf("django: %d-byte hash out of bounds", len(key)))
	}
	return Hash{
		Algorithm:  PBKDF2SHA256,
		Format:     FormatDjango,
		Iterations: int(i),
		Salt:       []byte(salt),
		Key:        key,
	}, nil
}

// parseBcrypt parses $2a$, $2b$ and $2y$ hashes, which x/crypto/bcrypt
// computes identically: $2b$CC$ followed by 22 salt and 31 hash characters.
func parseBcrypt(s string) (Hash, error) {
	if len(s) != 60 || s[6] != '$' {
		return Hash{}, malformed("bcrypt: want 60 characters")
	}
	cost, ok := 0, s[4] >= '0' && s[4] <= '9' && s[5] >= '0' && s[5] <= '9'
	if ok {
		cost = int(s[4]-'0')*10 + int(s[5]-'0')
	}
	if !ok || cost < minBcryptCost || cost > maxBcryptCost {
		return Hash{}, malformed("bcrypt: cost out of bounds")
	}
	for i := 7; i < len(s); i++ {
		c := s[i]
		if !(c == '.' || c == '/' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return Hash{}, malformed("bcrypt: invalid character")
		}
	}
	return Hash{Algorithm: Bcrypt, Format: FormatBcrypt, Cost: cost, bcrypt: s}, nil
}

// saltKey decodes and bounds a salt and key field.
func saltKey(enc *base64.Encoding, s, k, alg string) (salt, key []byte, err error) {
	salt, ok := decode(enc, s)
	if !ok {
		return nil, nil, malformed(alg + ": salt is not canonical base64")
	}
	key, ok = decode(enc, k)
	if !ok {
		return nil, nil, malformed(alg + ": key is not canonical base64")
	}
	if len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return nil, nil, malformed(fmt.Sprintf("%s: %d-byte salt out of bounds", alg, len(salt)))
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return nil, nil, malformed(fmt.Sprintf("%s: %d-byte key out of bounds", alg, len(key)))
	}
	return salt, key, nil
}

// decode decodes s only if it is the canonical encoding of its bytes: the
// decoder alone would skip newlines, which would break Encode's round trip.
func decode(enc *base64.Encoding, s string) ([]byte, bool) {
	b, err := enc.DecodeString(s)
	if err != nil || enc.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

// param parses "name=N".
func param(s, name string) (uint64, bool) {
	v, ok := strings.CutPrefix(s, name)
	if !ok {
		return 0, false
	}
	return decimal(v)
}

// decimal parses a canonical unsigned decimal of at most 10 digits: no sign,
// no leading zero, so that it formats back to itself.
func decimal(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || s[0] == '0' && len(s) > 1 {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// Encode returns the stored form of h; for a Hash from Parse it is Parse's
// input. Like the input, it is a secret: do not log it.
func (h Hash) Encode() string {
	switch h.Format {
	case FormatBcrypt:
		return h.bcrypt
	case FormatKeycloak:
		if h.raw != "" {
			return h.raw
		}
		return encodeKeycloak(h)
	case FormatDjango:
		return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", h.Iterations, h.Salt, djangoB64.EncodeToString(h.Key))
	case FormatPasslib:
		return fmt.Sprintf("$%s$%d$%s$%s", h.Algorithm, h.Iterations, passlibB64.EncodeToString(h.Salt), passlibB64.EncodeToString(h.Key))
	}
	if h.Algorithm == Argon2id {
		return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", h.Params.Memory, h.Params.Time, h.Params.Threads,
			phcB64.EncodeToString(h.Salt), phcB64.EncodeToString(h.Key))
	}
	return fmt.Sprintf("$%s$i=%d,l=%d$%s$%s", h.Algorithm, h.Iterations, len(h.Key),
		phcB64.EncodeToString(h.Salt), phcB64.EncodeToString(h.Key))
}

// String describes h without its salt or key, so that printing or logging a
// Hash by mistake reveals only its algorithm and cost.
func (h Hash) String() string {
	switch h.Algorithm {
	case Argon2id:
		return fmt.Sprintf("argon2id(m=%d,t=%d,p=%d)", h.Params.Memory, h.Params.Time, h.Params.Threads)
	case Bcrypt:
		return fmt.Sprintf("bcrypt(cost=%d)", h.Cost)
	}
	return fmt.Sprintf("%s(%s,i=%d)", h.Algorithm, h.Format, h.Iterations)
}
