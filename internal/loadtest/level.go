package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// levelResult is what one concurrency level measured.
type levelResult struct {
	Clients      int            `json:"clients"`
	Seconds      float64        `json:"seconds"`
	Requests     int            `json:"requests"`
	Logins       int            `json:"logins"`
	LoginsPerSec float64        `json:"logins_per_sec"`
	Errors       map[string]int `json:"errors"`
	ErrorSample  string         `json:"error_sample,omitempty"`
	// Latency of the successful logins.
	P50Ms float64 `json:"p50_ms"`
	P90Ms float64 `json:"p90_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	// Ratio is logins per second ÷ the raw all-cores hash rate.
	Ratio *float64 `json:"ratio,omitempty"`
	// With -pid.
	CPUMsPerLogin   *float64 `json:"server_cpu_ms_per_login,omitempty"`
	CPUBeyondHashMs *float64 `json:"server_cpu_ms_beyond_hash,omitempty"`
	// CPUBeyondBusyHashMs subtracts what one hash costs while every core
	// hashes (workers ÷ all-cores rate), as the server's hashes run.
	CPUBeyondBusyHashMs *float64 `json:"server_cpu_ms_beyond_busy_hash,omitempty"`
	// With -db-pid: the database server's CPU (its main process and every
	// child, as PostgreSQL's backends are) per login.
	DBCPUMsPerLogin *float64 `json:"db_cpu_ms_per_login,omitempty"`
	// The whole machine: busy CPU per login (server, database, this tool and
	// anything else), and the share of CPU time left idle during the level.
	MachineCPUMsPerLogin *float64 `json:"machine_cpu_ms_per_login,omitempty"`
	MachineIdlePct       *float64 `json:"machine_idle_pct,omitempty"`
	// MachineStealPct is the share of the level's CPU time the hypervisor
	// gave to other machines.
	MachineStealPct *float64 `json:"machine_steal_pct,omitempty"`
	// HashRef is the all-cores hash rate the ratio divides by: the mean of
	// the rates measured just before and just after the level.
	HashRef *float64 `json:"raw_hash_ref_per_sec,omitempty"`
	// HashDriftPct is how far apart those two rates were, in percent of
	// their mean: the machine's own drift during the level, which the
	// ratio cannot tell from the server's.
	HashDriftPct *float64 `json:"raw_hash_drift_pct,omitempty"`
	IdleRSSMiB   *float64 `json:"server_idle_rss_mib,omitempty"`
	PeakRSSMiB   *float64 `json:"server_peak_rss_mib,omitempty"`
	HWMMiB       *float64 `json:"server_hwm_mib,omitempty"`
}

// loopbackURL parses raw and refuses anything but http(s) to a loopback
// host: 127.0.0.0/8, ::1 or localhost.
func loopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-url %q: the scheme must be http or https", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return u, nil
	}
	return nil, fmt.Errorf("-url %q: refusing a host that is not loopback (127.0.0.0/8, [::1], localhost)", raw)
}

// newClient returns a keep-alive client for n concurrent callers that can only
// connect to loopback addresses, follows no redirects and ignores proxies.
func newClient(n int, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("refusing to connect to %s: not loopback", address)
			}
			return nil
		},
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			MaxIdleConns:        n,
			MaxIdleConnsPerHost: n,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// outcome is the result of one login request.
type outcome struct {
	ok      bool
	key     string // error class when !ok: "503 overloaded", "transport", ...
	detail  string
	latency time.Duration
}

type loginRequest struct {
	Org      string `json:"org"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string `json:"token"`
	Challenge string `json:"challenge"`
	Error     struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func login(ctx context.Context, c *http.Client, endpoint string, body []byte) outcome {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return outcome{key: "request", detail: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		key := "transport"
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			key = "timeout"
		}
		return outcome{key: key, detail: err.Error(), latency: time.Since(start)}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	io.Copy(io.Discard, resp.Body) // drain, so the connection is reused
	resp.Body.Close()
	lat := time.Since(start)
	if err != nil {
		return outcome{key: "transport", detail: err.Error(), latency: lat}
	}
	var lr loginResponse
	jsonErr := json.Unmarshal(raw, &lr)
	switch {
	case resp.StatusCode == http.StatusOK && lr.Token != "":
		return outcome{ok: true, latency: lat}
	case resp.StatusCode == http.StatusOK && lr.Challenge != "":
		return outcome{key: "200 challenge " + lr.Challenge, detail: excerpt(raw), latency: lat}
	case resp.StatusCode == http.StatusOK:
		return outcome{key: "200 without token", detail: excerpt(raw), latency: lat}
	case jsonErr == nil && lr.Error.Code != "":
		return outcome{key: strconv.Itoa(resp.StatusCode) + " " + lr.Error.Code, detail: excerpt(raw), latency: lat}
	default:
		return outcome{key: strconv.Itoa(resp.StatusCode), detail: excerpt(raw), latency: lat}
	}
}

func excerpt(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

func loginBody(cfg config) []byte {
	b, err := json.Marshal(loginRequest{Org: cfg.Org, Email: cfg.Email, Password: cfg.Password})
	if err != nil {
		panic(err) // strings always marshal
	}
	return b
}

// preflight signs in once, so that a wrong password or a dead server is one
// clear error and not a table of failures.
func preflight(ctx context.Context, cfg config) error {
	c := newClient(1, cfg.Timeout)
	defer c.CloseIdleConnections()
	o := login(ctx, c, cfg.URL+"/api/v1/auth/login", loginBody(cfg))
	if !o.ok {
		return fmt.Errorf("the first login as %s in organization %q failed: %s: %s", cfg.Email, cfg.Org, o.key, o.detail)
	}
	return nil
}

// waitReady polls GET /readyz every 100 ms until it answers 200, the server
// process (with -pid) is gone, or cfg.Wait has passed.
func waitReady(ctx context.Context, cfg config) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Wait)
	defer cancel()
	c := newClient(1, time.Second)
	defer c.CloseIdleConnections()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.URL+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if cfg.PID != 0 {
			if _, err := readProc(cfg.PID); err != nil {
				return fmt.Errorf("the server (PID %d) exited before it was ready", cfg.PID)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s/readyz not ready after %v (last: %s)", cfg.URL, cfg.Wait, last)
		case <-tick.C:
		}
	}
}

// runLevel runs n clients for cfg.Duration or until cfg.MaxLogins requests
// have started.
func runLevel(ctx context.Context, cfg config, n int) (levelResult, error) {
	res := levelResult{Clients: n, Errors: map[string]int{}}
	client := newClient(n, cfg.Timeout)
	defer client.CloseIdleConnections()
	endpoint := cfg.URL + "/api/v1/auth/login"
	body := loginBody(cfg)
	if cfg.Mode == "forgot" {
		endpoint = cfg.URL + "/api/v1/auth/forgot-password"
	}

	var before procInfo
	var sampler *rssSampler
	if cfg.PID != 0 {
		var err error
		if before, err = readProc(cfg.PID); err != nil {
			return res, err
		}
		res.IdleRSSMiB = ptr(kib(before.RSSKiB))
		sampler = startRSSSampler(cfg.PID, 100*time.Millisecond)
	}
	var dbBefore uint64
	if cfg.DBPID != 0 {
		var err error
		if dbBefore, err = treeCPU(cfg.DBPID); err != nil {
			return res, fmt.Errorf("-db-pid %d: %w", cfg.DBPID, err)
		}
	}
	cpuBefore, machineErr := machineCPU()

	// Requests already sent when the time is up are allowed to finish
	// (within their own timeout), so that they are not counted as errors.
	lctx, cancel := context.WithTimeout(ctx, cfg.Duration+cfg.Timeout)
	defer cancel()
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var started atomic.Int64

	type tally struct {
		latencies []time.Duration
		errors    map[string]int
		sample    string
		requests  int
	}
	tallies := make([]tally, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			t := &tallies[i]
			t.errors = map[string]int{}
			for time.Now().Before(deadline) && lctx.Err() == nil {
				if started.Add(1) > int64(cfg.MaxLogins) {
					return
				}
				var o outcome
				if cfg.Mode == "forgot" {
					o = forgot(lctx, client, endpoint, forgotBody(cfg, t.requests))
				} else {
					o = login(lctx, client, endpoint, body)
				}
				t.requests++
				if o.ok {
					t.latencies = append(t.latencies, o.latency)
					continue
				}
				t.errors[o.key]++
				if t.sample == "" {
					t.sample = o.key + ": " + o.detail
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var lats []time.Duration
	for _, t := range tallies {
		lats = append(lats, t.latencies...)
		res.Requests += t.requests
		for k, v := range t.errors {
			res.Errors[k] += v
		}
		if res.ErrorSample == "" {
			res.ErrorSample = t.sample
		}
	}
	slices.Sort(lats)
	res.Seconds = elapsed.Seconds()
	res.Logins = len(lats)
	res.LoginsPerSec = float64(res.Logins) / elapsed.Seconds()
	res.P50Ms = ms(percentile(lats, 50))
	res.P90Ms = ms(percentile(lats, 90))
	res.P99Ms = ms(percentile(lats, 99))
	res.MaxMs = ms(percentile(lats, 100))
	tick := 1000 / float64(clockTicks()) // ms
	if c, err := machineCPU(); err == nil && machineErr == nil {
		busy, idle, steal := c.Busy-cpuBefore.Busy, c.Idle-cpuBefore.Idle, c.Steal-cpuBefore.Steal
		if busy+idle > 0 {
			res.MachineIdlePct = ptr(100 * float64(idle) / float64(busy+idle))
			res.MachineStealPct = ptr(100 * float64(steal) / float64(busy+idle+steal))
		}
		if res.Logins > 0 {
			res.MachineCPUMsPerLogin = ptr(float64(busy) * tick / float64(res.Logins))
		}
	}
	if cfg.DBPID != 0 && res.Logins > 0 {
		after, err := treeCPU(cfg.DBPID)
		if err != nil {
			return res, fmt.Errorf("the database server (PID %d) is gone after the level with %d clients: %w", cfg.DBPID, n, err)
		}
		res.DBCPUMsPerLogin = ptr(float64(after-dbBefore) * tick / float64(res.Logins))
	}

	if cfg.PID != 0 {
		peak := sampler.stop()
		after, err := readProc(cfg.PID)
		if err != nil {
			return res, fmt.Errorf("the server (PID %d) is gone after the level with %d clients: %w", cfg.PID, n, err)
		}
		peak = max(peak, after.RSSKiB)
		res.PeakRSSMiB = ptr(kib(peak))
		res.HWMMiB = ptr(kib(after.HWMKiB))
		if res.Logins > 0 {
			res.CPUMsPerLogin = ptr(float64(after.CPUTicks-before.CPUTicks) * tick / float64(res.Logins))
		}
	}
	return res, nil
}

// compare sets the level's ratio and CPU beyond the hash from the raw hash
// rates measured just before and just after it (after may be nil).
func (res *levelResult) compare(before, after *hashResult) {
	if before == nil {
		return
	}
	single, all := before.SingleRate, before.AllRate
	if after != nil {
		single, all = (single+after.SingleRate)/2, (all+after.AllRate)/2
		if all > 0 {
			res.HashDriftPct = ptr(100 * math.Abs(before.AllRate-after.AllRate) / all)
		}
	}
	if all > 0 {
		res.HashRef = ptr(all)
		res.Ratio = ptr(res.LoginsPerSec / all)
	}
	if res.CPUMsPerLogin == nil {
		return
	}
	if single > 0 {
		res.CPUBeyondHashMs = ptr(*res.CPUMsPerLogin - 1000/single)
	}
	if all > 0 && before.Workers > 0 {
		res.CPUBeyondBusyHashMs = ptr(*res.CPUMsPerLogin - 1000*float64(before.Workers)/all)
	}
}

// percentile returns the p-th percentile (nearest rank) of sorted values, and
// 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999999) - 1
	rank = min(max(rank, 0), len(sorted)-1)
	return sorted[rank]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ptr[T any](v T) *T { return &v }

// forgotBody asks for the known email on even requests and an unknown one
// on odd ones, so that both answers are measured alike.
func forgotBody(cfg config, i int) []byte {
	email := cfg.Email
	if i%2 == 1 {
		email = "nobody-" + strconv.Itoa(i) + "@example.invalid"
	}
	b, _ := json.Marshal(map[string]string{"org": cfg.Org, "email": email})
	return b
}

// forgot sends one forgot-password request; 202 is success.
func forgot(ctx context.Context, c *http.Client, endpoint string, body []byte) outcome {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return outcome{key: "request", detail: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return outcome{key: "transport", detail: err.Error(), latency: time.Since(start)}
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	lat := time.Since(start)
	if resp.StatusCode == http.StatusAccepted {
		return outcome{ok: true, latency: lat}
	}
	return outcome{key: strconv.Itoa(resp.StatusCode), detail: excerpt(raw), latency: lat}
}
