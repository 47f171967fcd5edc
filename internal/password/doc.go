// Package password hashes and verifies passwords, bounds the hashing load,
// checks the password policy and makes temporary passwords and tokens.
//
// New hashes are argon2id PHC strings. Verify also accepts imported PBKDF2
// (PHC, passlib, Django and Keycloak forms) and bcrypt hashes, reports when a hash
// should be upgraded, and refuses any stored hash whose cost parameters are
// out of bounds, so one poisoned import cannot exhaust memory at login.
//
// Every hash computation runs through a Limiter: at most a fixed number run
// at once, a bounded number wait without holding hash memory, and the rest
// get ErrOverloaded, which the web layer turns into 503 with Retry-After.
//
// A Policy checks a new password and lists every rule it breaks: length in
// code points after NFKC, an optional composition rule, an embedded list of
// about 49,000 common passwords, the user's and organization's names
// (Context), and optionally an offline Pwned Passwords file (Breached). The
// history rule needs the stored hashes, so the account package checks it.
package password
