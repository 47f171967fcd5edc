package password

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"
)

// ErrOverloaded is returned when the Limiter refuses a hash: its queue is
// full or the caller waited longer than the maximum wait.
var ErrOverloaded = errors.New("password: hashing overloaded")

// Limiter bounds concurrent hashes. At most slots run at once and up to
// queue callers wait for a slot. Waiting costs no hash memory, since a caller
// blocks before fn allocates anything. A caller beyond the queue depth gets
// ErrOverloaded at once, one that waited longer than maxWait gets it then.
// Waiters are served in arrival order.
type Limiter struct {
	slots   chan struct{}
	queue   int64
	maxWait time.Duration
	waiting atomic.Int64
	running atomic.Int64
}

// NewLimiter returns a Limiter running at most slots (at least 1) functions
// at once, with up to queue callers waiting at most maxWait each. A maxWait
// of zero or less lets callers wait until their context is done.
func NewLimiter(slots, queue int, maxWait time.Duration) *Limiter {
	return &Limiter{
		slots:   make(chan struct{}, max(slots, 1)),
		queue:   int64(max(queue, 0)),
		maxWait: maxWait,
	}
}

// DefaultLimiter returns a new Limiter with one slot per usable CPU, a queue
// of 256 and a 5-second wait: enough for 64 simultaneous logins on a
// two-core machine. Make one per process and share it.
func DefaultLimiter() *Limiter {
	return NewLimiter(runtime.GOMAXPROCS(0), 256, 5*time.Second)
}

// Do runs fn once a slot is free. It returns ErrOverloaded if the queue is
// full or the wait is too long, and ctx.Err() if ctx is done first; in both
// cases fn is not run. A done ctx is never run, even with a free slot.
func (l *Limiter) Do(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case l.slots <- struct{}{}:
	default:
		if err := l.wait(ctx); err != nil {
			return err
		}
	}
	l.running.Add(1)
	defer func() {
		l.running.Add(-1)
		<-l.slots
	}()
	fn()
	return nil
}

// wait queues the caller until it holds a slot.
func (l *Limiter) wait(ctx context.Context) error {
	if l.waiting.Add(1) > l.queue {
		l.waiting.Add(-1)
		return ErrOverloaded
	}
	defer l.waiting.Add(-1)
	var expired <-chan time.Time
	if l.maxWait > 0 {
		t := time.NewTimer(l.maxWait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-expired:
		return ErrOverloaded
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Waiting reports how many callers are queued, for a metrics gauge.
func (l *Limiter) Waiting() int { return int(l.waiting.Load()) }

// Running reports how many functions are running, for a metrics gauge.
func (l *Limiter) Running() int { return int(l.running.Load()) }
