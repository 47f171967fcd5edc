package password

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB, default 19456
	Time    uint32 // iterations, default 2
	Threads uint8  // lanes, default 1
	SaltLen uint32 // bytes, default 16
	KeyLen  uint32 // bytes, default 32
}

// DefaultParams returns the OWASP Password Storage Cheat Sheet minimum for
// argon2id: m=19456 KiB, t=2, p=1, with a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on the parameters of a stored hash, checked by Parse before any
// computation (cf. Ory Kratos hash/hash_limits.go). They are generous for
// real imports and small enough that one hash cannot take the service down.
const (
	maxArgon2Memory  = 256 * 1024 // KiB: 256 MiB
	maxArgon2Time    = 10
	maxArgon2Threads = 16
	minSaltLen       = 8
	maxSaltLen       = 64
	minKeyLen        = 16
	maxKeyLen        = 128
	minBcryptCost    = 4
	maxBcryptCost    = 14
	minPBKDF2Iter    = 1_000
	maxPBKDF2Iter    = 2_000_000
	maxEncodedLen    = 512 // longer than any hash within the bounds above
	bcryptMaxPass    = 72  // bcrypt ignores bytes beyond this
)

// effective returns p with zero fields set to their defaults and every field
// brought within the bounds Parse accepts, so that a Hasher never writes a
// hash it would later refuse to verify.
func (p Params) effective() Params {
	d := DefaultParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	p.Time = min(p.Time, maxArgon2Time)
	p.Threads = min(p.Threads, maxArgon2Threads)
	p.Memory = min(max(p.Memory, 8*uint32(p.Threads)), maxArgon2Memory)
	p.SaltLen = min(max(p.SaltLen, minSaltLen), maxSaltLen)
	p.KeyLen = min(max(p.KeyLen, minKeyLen), maxKeyLen)
	return p
}
