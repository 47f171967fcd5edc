package password

import (
	"crypto/sha1"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

type countingReaderAt struct {
	r     io.ReaderAt
	reads atomic.Int64
	bytes atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.reads.Add(1)
	n, err := c.r.ReadAt(p, off)
	c.bytes.Add(int64(n))
	return n, err
}

// TestBreached_logReads checks that a lookup reads O(log n) small pieces of
// the file, never the whole of it.
func TestBreached_logReads(t *testing.T) {
	var lines []string
	for i := range 50_000 {
		lines = append(lines, fmt.Sprintf("%X:%d", sha1.Sum(fmt.Appendf(nil, "pw-%d", i)), i))
	}
	slices.Sort(lines)
	path := filepath.Join(t.TempDir(), "pwned.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := OpenBreached(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cr := &countingReaderAt{r: b.r}
	b.r = cr
	maxReads := int64(bits.Len64(uint64(b.size))) + 2
	for _, pw := range []string{"pw-0", "pw-49999", "pw-31337", "not-there", ""} {
		cr.reads.Store(0)
		cr.bytes.Store(0)
		ok, err := b.Contains(pw)
		if err != nil || ok != strings.HasPrefix(pw, "pw-") {
			t.Errorf("Contains(%q) = %v, %v", pw, ok, err)
		}
		if r, n := cr.reads.Load(), cr.bytes.Load(); r > maxReads || n > maxReads*2*maxLine {
			t.Errorf("Contains(%q): %d reads of %d bytes in all, want at most %d reads of a %d-byte file", pw, r, n, maxReads, b.size)
		}
	}
}
