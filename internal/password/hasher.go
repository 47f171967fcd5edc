package password

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Hasher hashes and verifies passwords through a Limiter.
type Hasher struct {
	// OnHash, if set, is called with the duration of every argon2id, bcrypt
	// or pbkdf2 computation, for metrics. Set it before first use.
	OnHash func(time.Duration)

	params    Params
	limiter   *Limiter
	dummySalt []byte
	dummyKey  []byte
}

// NewHasher returns a Hasher writing argon2id hashes at p through l. Zero
// fields of p take their DefaultParams value and the others are brought
// within Parse's bounds, so the Hasher can verify every hash it writes; a
// nil l means DefaultLimiter().
func NewHasher(p Params, l *Limiter) *Hasher {
	if l == nil {
		l = DefaultLimiter()
	}
	p = p.effective()
	h := &Hasher{params: p, limiter: l, dummySalt: make([]byte, p.SaltLen), dummyKey: make([]byte, p.KeyLen)}
	rand.Read(h.dummySalt)
	rand.Read(h.dummyKey)
	return h
}

// Params returns the parameters of the hashes h writes, after NewHasher's
// defaults and bounds.
func (h *Hasher) Params() Params { return h.params }

// Hash returns an argon2id PHC string of plain with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, base64 without padding.
// Callers hash Normalize(password). It returns ErrOverloaded or ctx.Err()
// when the Limiter refuses.
func (h *Hasher) Hash(ctx context.Context, plain string) (string, error) {
	p := h.params
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	var key []byte
	err := h.limiter.Do(ctx, func() {
		start := time.Now()
		key = argon2.IDKey([]byte(plain), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		h.observe(start)
	})
	if err != nil {
		return "", err
	}
	return Hash{Algorithm: Argon2id, Format: FormatPHC, Params: p, Salt: salt, Key: key}.Encode(), nil
}

// Verify reports whether plain matches encoded, comparing keys in constant
// time. encoded is an argon2id PHC hash, a PBKDF2-SHA256 or -SHA512 hash in
// PHC ($pbkdf2-sha256$i=N,l=32$…) or passlib ($pbkdf2-sha256$N$…) form, a
// bcrypt hash ($2a$, $2b$, $2y$), a Django pbkdf2_sha256 hash or a Keycloak
// pbkdf2-sha256 or -sha512 credential (JSON). rehash is
// true when ok and encoded is not argon2id at exactly h.Params(): the caller
// should store a new Hash of the password it just verified.
//
// A bcrypt hash never matches a password over 72 bytes, since bcrypt would
// ignore the rest. A hash Parse refuses returns an error wrapping
// ErrMalformedHash; a refusing Limiter, ErrOverloaded or ctx.Err().
func (h *Hasher) Verify(ctx context.Context, encoded, plain string) (ok, rehash bool, err error) {
	stored, err := Parse(encoded)
	if err != nil {
		return false, false, err
	}
	var vErr error
	err = h.limiter.Do(ctx, func() {
		start := time.Now()
		ok, vErr = stored.matches(plain)
		h.observe(start)
	})
	if err == nil {
		err = vErr
	}
	if err != nil || !ok {
		return false, false, err
	}
	return true, stored.Algorithm != Argon2id || stored.Params != h.params, nil
}

// VerifyDummy spends the time of a Verify against an argon2id hash at
// h.Params(), for sign-ins naming no known user, so that timing does not tell
// whether the account exists. It returns only a Limiter's refusal.
func (h *Hasher) VerifyDummy(ctx context.Context, plain string) error {
	p := h.params
	return h.limiter.Do(ctx, func() {
		start := time.Now()
		key := argon2.IDKey([]byte(plain), h.dummySalt, p.Time, p.Memory, p.Threads, p.KeyLen)
		subtle.ConstantTimeCompare(key, h.dummyKey)
		h.observe(start)
	})
}

func (h *Hasher) observe(start time.Time) {
	if h.OnHash != nil {
		h.OnHash(time.Since(start))
	}
}

// matches computes the hash of plain with h's parameters and compares it.
// h must come from Parse, which bounds the parameters.
func (h Hash) matches(plain string) (bool, error) {
	var key []byte
	var err error
	switch h.Algorithm {
	case Argon2id:
		p := h.Params
		key = argon2.IDKey([]byte(plain), h.Salt, p.Time, p.Memory, p.Threads, uint32(len(h.Key)))
	case PBKDF2SHA256:
		key, err = pbkdf2.Key(sha256.New, plain, h.Salt, h.Iterations, len(h.Key))
	case PBKDF2SHA512:
		key, err = pbkdf2.Key(sha512.New, plain, h.Salt, h.Iterations, len(h.Key))
	case Bcrypt:
		if len(plain) > bcryptMaxPass {
			return false, nil
		}
		err = bcrypt.CompareHashAndPassword([]byte(h.bcrypt), []byte(plain))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
		}
		return true, nil
	default:
		return false, malformed("unsupported algorithm")
	}
	if err != nil {
		return false, fmt.Errorf("password: %s: %w", h.Algorithm, err)
	}
	return subtle.ConstantTimeCompare(key, h.Key) == 1, nil
}
