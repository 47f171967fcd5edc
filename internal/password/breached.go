package password

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// Breached is a Pwned Passwords file, looked up in place: a lookup is a
// binary search of about log₂(size) small reads, and the file is never
// loaded into memory, so the full list (tens of GB) works as well as a
// sample. It is safe for concurrent use.
type Breached struct {
	r    io.ReaderAt // the file; a test counts the reads
	c    io.Closer
	name string
	size int64
}

const (
	hashLen = 2 * sha1.Size // 40 hex digits
	// maxLine bounds a line, CRLF included: 40 hex digits, ':' and a
	// count. Each read takes 2×maxLine bytes, enough to skip to the next
	// line start and hold that whole line.
	maxLine = 64
	// samples is how many evenly spaced lines OpenBreached checks, besides
	// the first and last.
	samples = 64
)

// OpenBreached opens a file of SHA-1 password hashes in the public Pwned
// Passwords format: one "SHA1HEX:COUNT" line per password, 40 upper-case hex
// digits, sorted ascending by hash, LF or CRLF line ends (the count may be
// absent). It checks the first, the last and 64 evenly spaced lines, which
// must be well formed and in ascending order, so that a wrong file (NTLM
// hashes, the by-count ordering, lower-case hex) is refused at start rather
// than found to miss every password. The error names the path and, for a
// bad line, its byte offset.
func OpenBreached(path string) (*Breached, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("password: breached passwords: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("password: breached passwords: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("password: breached passwords %s: not a regular file", path)
	}
	b := &Breached{r: f, c: f, name: path, size: fi.Size()}
	if err := b.check(); err != nil {
		f.Close()
		return nil, err
	}
	return b, nil
}

// check samples b's lines for OpenBreached.
func (b *Breached) check() error {
	if b.size == 0 {
		return fmt.Errorf("password: breached passwords %s: empty file", b.name)
	}
	// The sample offsets, in order; lineAt maps each to the line starting
	// at or after it, so neighbours may give the same line.
	offs := make([]int64, 0, samples+2)
	for i := range int64(samples + 1) {
		offs = append(offs, i*b.size/(samples+1))
	}
	last, err := b.lastLineStart()
	if err != nil {
		return err
	}
	offs = append(offs, last)
	prevAt, prev := int64(-1), ""
	for _, off := range offs {
		at, line, _, err := b.lineAt(off)
		if err != nil {
			return err
		}
		if at == prevAt || at >= b.size {
			continue
		}
		if line < prev {
			return fmt.Errorf("password: breached passwords %s: not sorted by hash: line at byte %d (%.40s) comes after %.40s",
				b.name, at, line, prev)
		}
		prevAt, prev = at, line
	}
	return nil
}

// lastLineStart returns the offset of the last line, ignoring a final line end.
func (b *Breached) lastLineStart() (int64, error) {
	n := min(b.size, 2*maxLine)
	buf := make([]byte, n)
	if _, err := b.r.ReadAt(buf, b.size-n); err != nil {
		return 0, b.readError(err)
	}
	buf = bytes.TrimRight(buf, "\r\n")
	i := bytes.LastIndexByte(buf, '\n')
	if i < 0 && n < b.size {
		return 0, fmt.Errorf("password: breached passwords %s: line at the end longer than %d bytes", b.name, maxLine)
	}
	return b.size - n + int64(i) + 1, nil
}

// lineAt returns the first line that starts at or after off: its offset,
// its hash (40 upper-case hex digits) and the offset just past it. At the
// end of the file, at is b.size and hash is "".
func (b *Breached) lineAt(off int64) (at int64, hash string, next int64, err error) {
	var buf [2 * maxLine]byte
	start := max(off-1, 0) // a line starts at off if the byte before is '\n'
	n, err := b.r.ReadAt(buf[:], start)
	if err != nil && err != io.EOF {
		return 0, "", 0, b.readError(err)
	}
	p := buf[:n]
	if off > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if start+int64(n) >= b.size {
				return b.size, "", b.size, nil // off is inside the last line
			}
			return 0, "", 0, b.malformed(start, "line longer than %d bytes", maxLine)
		}
		p, at = p[i+1:], start+int64(i)+1
	}
	if at >= b.size {
		return b.size, "", b.size, nil
	}
	end := bytes.IndexByte(p, '\n')
	switch {
	case end >= 0:
		next = at + int64(end) + 1
		p = p[:end]
	case at+int64(len(p)) == b.size: // the last line, without a line end
		next = b.size
	default:
		return 0, "", 0, b.malformed(at, "line longer than %d bytes", maxLine)
	}
	p = bytes.TrimSuffix(p, []byte("\r"))
	if err := checkLine(p); err != nil {
		return 0, "", 0, b.malformed(at, "%v", err)
	}
	return at, string(p[:hashLen]), next, nil
}

// checkLine checks "HEX40" or "HEX40:COUNT".
func checkLine(p []byte) error {
	if len(p) < hashLen {
		return errors.New("want 40 hex digits")
	}
	for _, c := range p[:hashLen] {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return errors.New("want 40 upper-case hex digits (a SHA-1 hash)")
		}
	}
	rest := p[hashLen:]
	if len(rest) == 0 {
		return nil
	}
	if rest[0] != ':' || len(rest) == 1 {
		return errors.New("want HASH:COUNT")
	}
	for _, c := range rest[1:] {
		if c < '0' || c > '9' {
			return errors.New("want a decimal count after ':'")
		}
	}
	return nil
}

func (b *Breached) malformed(at int64, format string, args ...any) error {
	return fmt.Errorf("password: breached passwords %s: byte %d: %s", b.name, at, fmt.Sprintf(format, args...))
}

func (b *Breached) readError(err error) error {
	return fmt.Errorf("password: breached passwords %s: %w", b.name, err)
}

// Contains reports whether the SHA-1 hash of pw, exactly as given, is in
// the file. Policy.CheckWith looks up the NFKC form, and the password as
// typed when that differs. The error is an I/O error or a malformed line met
// on the way; a file changed since OpenBreached can also cause a wrong answer.
func (b *Breached) Contains(pw string) (bool, error) {
	sum := sha1.Sum([]byte(pw))
	var want [hashLen]byte
	hex.Encode(want[:], sum[:])
	for i, c := range want {
		if 'a' <= c && c <= 'f' {
			want[i] = c - 'a' + 'A'
		}
	}
	target := string(want[:])
	// Invariant: every line starting before lo has a hash below target,
	// and every line starting at or after hi one at or above it.
	lo, hi := int64(0), b.size
	for lo < hi {
		mid := lo + (hi-lo)/2
		at, hash, next, err := b.lineAt(mid)
		if err != nil {
			return false, err
		}
		if at < hi && hash < target {
			lo = next
		} else {
			hi = mid // no line starts in [mid, at), and the one at at is ≥ target or past hi
		}
	}
	_, hash, _, err := b.lineAt(lo)
	if err != nil {
		return false, err
	}
	return hash == target, nil
}

// Close closes the file; Contains fails after it.
func (b *Breached) Close() error { return b.c.Close() }
