package password

import (
	"runtime"
	"strings"
	"testing"
)

func TestCommonList(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(commonList, "\n"), "\n")
	if len(lines) < 40_000 {
		t.Errorf("common list has %d passwords, want at least 40,000", len(lines))
	}
	// Frequency order: the most common first.
	for i, want := range []string{"123456", "password", "12345678", "qwerty"} {
		if lines[i] != want {
			t.Errorf("common list line %d = %q, want %q (frequency order)", i+1, lines[i], want)
		}
	}
	seen := make(map[string]int, len(lines))
	for i, l := range lines {
		switch {
		case l == "" || l != strings.TrimSpace(l):
			t.Errorf("line %d: %q is empty or has surrounding space", i+1, l)
		case l != strings.ToLower(l):
			t.Errorf("line %d: %q is not lower-case", i+1, l)
		case l != Normalize(l):
			t.Errorf("line %d: %q is not NFKC", i+1, l)
		}
		if j, dup := seen[l]; dup {
			t.Errorf("line %d: %q repeats line %d", i+1, l, j)
		}
		seen[l] = i + 1
	}
	set := common()
	if len(set) != len(lines) {
		t.Errorf("common() has %d entries, the list %d lines", len(set), len(lines))
	}
	for _, pw := range []string{"password", "123456", "qwerty", "password123", "letmein", "dragon"} {
		if _, ok := set[pw]; !ok {
			t.Errorf("common() lacks %q", pw)
		}
	}
}

// TestCommonSetMemory reports, and bounds, the heap the common set takes.
// The keys point into the embedded text, so only the map itself is new.
func TestCommonSetMemory(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	set := commonSet(commonList)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("common set: %d passwords, %d bytes of embedded text, %.2f MiB of heap (%d bytes allocated)",
		len(set), len(commonList), float64(heap)/(1<<20), after.TotalAlloc-before.TotalAlloc)
	if heap > 4<<20 {
		t.Errorf("common set takes %d bytes of heap, want at most 4 MiB", heap)
	}
	runtime.KeepAlive(set)
}

func BenchmarkCommonSet(b *testing.B) {
	for b.Loop() {
		commonSet(commonList)
	}
}
