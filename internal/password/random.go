package password

import (
	"crypto/rand"
	"crypto/sha256"
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
