package password_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/latchkey/latchkey/internal/password"
)

// hashDefault does one argon2id hash at the default parameters, 19 MiB.
func hashDefault() {
	p := password.DefaultParams()
	argon2.IDKey([]byte("pw"), make([]byte, p.SaltLen), p.Time, p.Memory, p.Threads, p.KeyLen)
}

// peakHeap samples HeapInuse until stop is called and returns the peak rise
// over the heap at the start.
func peakHeap(t *testing.T) (stop func() uint64) {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return max(peak, base) - base
	}
}

// maxTracker records the most fns running at once.
type maxTracker struct{ cur, max atomic.Int64 }

func (m *maxTracker) run(fn func()) func() {
	return func() {
		n := m.cur.Add(1)
		for {
			old := m.max.Load()
			if n <= old || m.max.CompareAndSwap(old, n) {
				break
			}
		}
		fn()
		m.cur.Add(-1)
	}
}

func TestLimiter_overload(t *testing.T) {
	l := password.NewLimiter(2, 8, 2*time.Second)
	var track maxTracker
	var served, overloaded atomic.Int64
	var running atomic.Int64 // max of l.Running() seen from inside fn
	stop := peakHeap(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			err := l.Do(t.Context(), track.run(func() {
				running.Store(max(running.Load(), int64(l.Running())))
				hashDefault()
			}))
			switch {
			case err == nil:
				served.Add(1)
			case errors.Is(err, password.ErrOverloaded):
				overloaded.Add(1)
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	rise := stop()
	close(errs)
	for err := range errs {
		t.Errorf("Do: unexpected error %v", err)
	}
	t.Logf("served %d, overloaded %d, peak heap rise %d MiB", served.Load(), overloaded.Load(), rise>>20)
	if overloaded.Load() == 0 {
		t.Errorf("no call was refused with ErrOverloaded")
	}
	if served.Load() < 10 {
		t.Errorf("served %d, want at least slots+queue = 10", served.Load())
	}
	if got := track.max.Load(); got > 2 || running.Load() > 2 {
		t.Errorf("%d hashes ran at once (Running said %d), want at most 2", got, running.Load())
	}
	// Two running hashes hold 2×19 MiB; with garbage awaiting collection
	// the heap may reach about twice that. 98 hashes' worth would be ~1.8 GiB.
	if rise > 120<<20 {
		t.Errorf("peak heap rose by %d MiB, want < 120 MiB", rise>>20)
	}
	if l.Waiting() != 0 || l.Running() != 0 {
		t.Errorf("after all calls Waiting, Running = %d, %d; want 0, 0", l.Waiting(), l.Running())
	}
}

func TestLimiter_default64(t *testing.T) {
	l := password.DefaultLimiter()
	hash := hashDefault
	if raceEnabled {
		// 64 default hashes take over 5 s under -race; keep the concurrency check.
		t.Log("race detector: hashing at 1 MiB instead of 19 MiB")
		hash = func() { argon2.IDKey([]byte("pw"), make([]byte, 16), 2, 1024, 1, 32) }
	}
	var track maxTracker
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			if err := l.Do(t.Context(), track.run(hash)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Do: %v; want all 64 served", err)
	}
	t.Logf("64 hashes in %v on %d slots", time.Since(start), runtime.GOMAXPROCS(0))
	if got, slots := track.max.Load(), int64(runtime.GOMAXPROCS(0)); got > slots {
		t.Errorf("%d hashes ran at once, want at most %d", got, slots)
	}
}

// hold occupies l's only slot until the returned release is called.
func hold(t *testing.T, l *password.Limiter) (release func()) {
	t.Helper()
	started, release1 := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- l.Do(context.Background(), func() { close(started); <-release1 })
	}()
	<-started
	return func() {
		close(release1)
		if err := <-done; err != nil {
			t.Errorf("holding Do: %v", err)
		}
	}
}

// waitQueued waits until n callers are queued on l.
func waitQueued(l *password.Limiter, n int) {
	for l.Waiting() != n {
		runtime.Gosched()
	}
}

func TestLimiter_refusals(t *testing.T) {
	never := func() { panic("fn ran") }
	t.Run("max_wait", func(t *testing.T) {
		l := password.NewLimiter(1, 1, 50*time.Millisecond)
		defer hold(t, l)()
		start := time.Now()
		err := l.Do(t.Context(), never)
		if !errors.Is(err, password.ErrOverloaded) {
			t.Errorf("Do = %v, want ErrOverloaded", err)
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("refused after %v, before maxWait", d)
		}
	})
	t.Run("queue_full", func(t *testing.T) {
		l := password.NewLimiter(1, 1, time.Minute)
		release := hold(t, l)
		queued := make(chan error)
		go func() { queued <- l.Do(context.Background(), func() {}) }()
		waitQueued(l, 1)
		start := time.Now()
		if err := l.Do(t.Context(), never); !errors.Is(err, password.ErrOverloaded) {
			t.Errorf("Do beyond the queue = %v, want ErrOverloaded", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("refusal took %v, want immediate", d)
		}
		release()
		if err := <-queued; err != nil {
			t.Errorf("queued Do = %v, want it served once the slot was free", err)
		}
	})
	t.Run("no_queue", func(t *testing.T) {
		l := password.NewLimiter(1, 0, time.Minute)
		defer hold(t, l)()
		if err := l.Do(t.Context(), never); !errors.Is(err, password.ErrOverloaded) {
			t.Errorf("Do = %v, want ErrOverloaded", err)
		}
	})
	t.Run("ctx_cancel_while_waiting", func(t *testing.T) {
		l := password.NewLimiter(1, 1, time.Minute)
		defer hold(t, l)()
		ctx, cancel := context.WithCancel(t.Context())
		got := make(chan error)
		go func() { got <- l.Do(ctx, never) }()
		waitQueued(l, 1)
		cancel()
		if err := <-got; !errors.Is(err, context.Canceled) {
			t.Errorf("Do = %v, want context.Canceled", err)
		}
		if l.Waiting() != 0 {
			t.Errorf("Waiting = %d after cancel, want 0", l.Waiting())
		}
	})
	t.Run("ctx_done_before", func(t *testing.T) {
		l := password.NewLimiter(1, 1, time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), 0)
		defer cancel()
		if err := l.Do(ctx, never); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Do = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("panic_frees_slot", func(t *testing.T) {
		l := password.NewLimiter(1, 0, time.Minute)
		func() {
			defer func() { recover() }()
			l.Do(t.Context(), never)
		}()
		if err := l.Do(t.Context(), func() {}); err != nil || l.Running() != 0 {
			t.Errorf("after a panic Do = %v, Running = %d; want the slot free", err, l.Running())
		}
	})
}
