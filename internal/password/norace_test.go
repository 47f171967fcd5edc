//go:build !race

package password_test

// raceEnabled reports a -race build, where argon2id runs about ten times slower.
const raceEnabled = false
