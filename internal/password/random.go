package password

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// Alphabets for temporary passwords, without look-alikes (0/O/o, 1/l/I/i).
const (
	tempLower  = "abcdefghjkmnpqrstuvwxyz"
	tempUpper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	tempDigit  = "23456789"
	tempLetter = tempLower + tempUpper + tempDigit
)

// Temporary returns a random password of n characters (at least 12; a
// smaller n gives 12) from an alphabet without look-alikes, with at least one
// lower-case letter, one upper-case letter and one digit. Each character
// carries about 5.8 bits, so 12 give about 69.
func Temporary(n int) string {
	n = max(n, 12)
	b := make([]byte, n)
	for {
		for i := range b {
			b[i] = tempLetter[uniform(len(tempLetter))]
		}
		s := string(b)
		// Drawing again until all classes appear keeps every compliant
		// password equally likely.
		if strings.ContainsAny(s, tempLower) && strings.ContainsAny(s, tempUpper) && strings.ContainsAny(s, tempDigit) {
			return s
		}
	}
}

// uniform returns a uniformly random int in [0, n), for 0 < n ≤ 256.
func uniform(n int) int {
	limit := 256 - 256%n // reject bytes past the last whole multiple of n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// NewToken returns prefix followed by 32 random bytes in unpadded base64url,
// and the token's Digest, which is all that may be stored.
func NewToken(prefix string) (token string, digest []byte) {
	var b [32]byte
	rand.Read(b[:])
	token = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, Digest(token)
}

// Digest returns the SHA-256 digest of token as presented, prefix included.
// A 256-bit random token needs no salt or slow hash.
func Digest(token string) []byte {
	d := sha256.Sum256([]byte(token))
	return d[:]
}

// tempPrefix marks a temporary password's hash.
const tempPrefix = "$lktemp$"

// HashTemporary hashes a generated temporary password for storage. A
// generated password carries over 90 bits of randomness, like a token, so
// a salted SHA-256 stands up to an offline search as well as argon2id
// would, and checking it costs no hashing slot.
func HashTemporary(plain string) string {
	var salt [16]byte
	rand.Read(salt[:])
	return tempPrefix + base64.RawStdEncoding.EncodeToString(salt[:]) + "$" + tempDigest(salt[:], plain)
}

func tempDigest(salt []byte, plain string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(plain))
	return base64.RawStdEncoding.EncodeToString(h.Sum(nil))
}

// IsTemporaryHash reports whether encoded was made by HashTemporary.
func IsTemporaryHash(encoded string) bool { return strings.HasPrefix(encoded, tempPrefix) }

// VerifyTemporary checks plain against a HashTemporary hash in constant time.
func VerifyTemporary(encoded, plain string) bool {
	rest, ok := strings.CutPrefix(encoded, tempPrefix)
	if !ok {
		return false
	}
	saltB64, want, ok := strings.Cut(rest, "$")
	salt, err := base64.RawStdEncoding.DecodeString(saltB64)
	if !ok || err != nil || len(salt) != 16 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(tempDigest(salt, plain)), []byte(want)) == 1
}
