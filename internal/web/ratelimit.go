package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/account"
)

// Bucket is a token bucket: Rate tokens a second, at most Burst saved up.
type Bucket struct {
	Rate  float64
	Burst float64
}

// IPLimits maps a limit's name ("login", "forgot", "reset") to its bucket.
type IPLimits map[string]Bucket

// DefaultIPLimits are generous enough for an agency behind one NAT address.
const DefaultIPLimits = "login=10:100,forgot=5:50,reset=10:100"

// ParseIPLimits parses "login=RATE:BURST,forgot=RATE:BURST,..." or "off" (nil).
func ParseIPLimits(s string) (IPLimits, error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return nil, nil
	}
	out := IPLimits{}
	for _, part := range strings.Split(s, ",") {
		name, spec, ok := strings.Cut(strings.TrimSpace(part), "=")
		rate, burst, ok2 := strings.Cut(spec, ":")
		if !ok || !ok2 {
			return nil, fmt.Errorf("ip limit %q: want NAME=RATE:BURST", part)
		}
		switch name {
		case "login", "forgot", "reset":
		default:
			return nil, fmt.Errorf("ip limit %q: unknown name %q (want login, forgot or reset)", part, name)
		}
		r, err1 := strconv.ParseFloat(rate, 64)
		b, err2 := strconv.ParseFloat(burst, 64)
		if err1 != nil || err2 != nil || r <= 0 || b < 1 || math.IsInf(r, 0) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("ip limit %q: RATE and BURST must be positive numbers", part)
		}
		out[name] = Bucket{Rate: r, Burst: b}
	}
	return out, nil
}

// limiter keeps a token bucket per limit and client IP. It is per process:
// being stale across processes only makes the limits a little more generous.
type limiter struct {
	limits IPLimits
	clock  account.Clock
	mu     sync.Mutex
	state  map[string]*bucketState
	swept  time.Time
}

type bucketState struct {
	tokens float64
	at     time.Time
}

func newLimiter(l IPLimits, c account.Clock) *limiter {
	return &limiter{limits: l, clock: c, state: map[string]*bucketState{}}
}

// allow takes a token for (name, ip); when none is left it returns how long
// until one is.
func (l *limiter) allow(name, ip string) (bool, time.Duration) {
	b, ok := l.limits[name]
	if !ok {
		return true, 0
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, st := range l.state {
			if now.Sub(st.at).Seconds()*b.Rate > b.Burst*2 {
				delete(l.state, k)
			}
		}
		l.swept = now
	}
	key := name + "|" + ip
	st := l.state[key]
	if st == nil {
		st = &bucketState{tokens: b.Burst, at: now}
		l.state[key] = st
	}
	st.tokens = math.Min(b.Burst, st.tokens+now.Sub(st.at).Seconds()*b.Rate)
	st.at = now
	if st.tokens >= 1 {
		st.tokens--
		return true, 0
	}
	return false, time.Duration((1 - st.tokens) / b.Rate * float64(time.Second))
}

// throttled is the 429 answer; it carries its Retry-After.
type throttled struct {
	err  account.Error
	wait time.Duration
}

func (t *throttled) Error() string { return t.err.Error() }

func (t *throttled) RetryAfter() string {
	return strconv.Itoa(int(math.Ceil(math.Max(1, t.wait.Seconds()))))
}

// limit applies the named per-IP bucket to h.
func (s *Server) limit(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := s.limits.allow(name, client(r).IP)
		if ok {
			h.ServeHTTP(w, r)
			return
		}
		err := &throttled{err: account.Error{Code: account.CodeThrottled, Message: "Too many requests; try again later."}, wait: wait}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.writeAPIError(w, r, err)
			return
		}
		s.renderError(w, r, err)
	})
}

// Unwrap exposes the *account.Error, so the answer has its code and status.
func (t *throttled) Unwrap() error { return &t.err }
