package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLoopbackURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.3.2.1", true},
		{"https://localhost:8443/", true},
		{"http://[::1]:8080", true},
		{"http://10.0.0.1:8080", false},
		{"http://example.org", false},
		{"http://localhost.example.org", false},
		{"http://0.0.0.0:8080", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := loopbackURL(tt.url)
			if got := err == nil; got != tt.ok {
				t.Errorf("loopbackURL(%q) error = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	// The command name holds a space and a ')'.
	stat := []byte("1234 (late hey) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 8 0 100 1000 200 18446744073709551615\n")
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(325); got != want {
		t.Errorf("parseStatCPU(%q) = %d, want %d", stat, got, want)
	}
}

func TestParseStat(t *testing.T) {
	stat := []byte("77 (postgres: x) S 42 77 77 0 -1 4194560 100 0 0 0 250 75 600 40 20 0 1 0 100 1000 200\n")
	got, err := parseStat(stat)
	if err != nil {
		t.Fatal(err)
	}
	want := statFields{PPID: 42, UTime: 250, STime: 75, CUTime: 600, CSTime: 40}
	if got != want {
		t.Errorf("parseStat = %+v, want %+v", got, want)
	}
	if _, err := parseStat([]byte("77 (x) S 42 77 77 0 -1 4194560 100 0 0 0 250 nan 600 40 20 0 1\n")); err == nil {
		t.Error("parseStat of a line with a field that is not a number: no error")
	}
}

func TestParseMachineCPU(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	b := []byte("cpu  100 5 30 800 20 2 3 40 0 0\ncpu0 50 2 15 400 10 1 1 20 0 0\n")
	got, err := parseMachineCPU(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := (cpuTicks{Busy: 140, Idle: 820, Steal: 40}); got != want {
		t.Errorf("parseMachineCPU = %+v, want %+v", got, want)
	}
	if _, err := parseMachineCPU([]byte("intr 1 2 3\n")); err == nil {
		t.Error("parseMachineCPU of a file without the cpu line: no error")
	}
}

// TestTreeCPU counts the CPU a child burns in the parent's tree. The child
// is this test binary again, spinning until it has used 300 ms of CPU
// (however busy the machine), then exiting to be waited for.
func TestTreeCPU(t *testing.T) {
	if os.Getenv("LOADTEST_SPIN") != "" {
		spinCPU(300 * time.Millisecond)
		os.Exit(0)
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	before, err := treeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestTreeCPU$")
	cmd.Env = append(os.Environ(), "LOADTEST_SPIN=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the spinning child: %v\n%s", err, out)
	}
	after, err := treeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if got := float64(after-before) / float64(clockTicks()); got < 0.25 {
		t.Errorf("treeCPU grew by %.2f s across a child that used 0.3 s of CPU", got)
	}
}

// spinCPU burns CPU until the process has used d of it.
func spinCPU(d time.Duration) {
	var ru syscall.Rusage
	x := 0
	for {
		for i := range 1_000_000 {
			x += i
		}
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil &&
			time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= d {
			break
		}
	}
	_ = x
}

func TestParseStatusMemory(t *testing.T) {
	status := []byte("Name:\tlatchkey\nVmPeak:\t 900 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n")
	rss, hwm := parseStatusMemory(status)
	if rss != 40960 || hwm != 51200 {
		t.Errorf("parseStatusMemory = %d, %d, want 40960, 51200", rss, hwm)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {90, 90 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}} {
		if got := percentile(d, tt.p); got != tt.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil, 50) = %v, want 0", got)
	}
}

// TestRun runs the tool against a fake login endpoint that accepts one
// password and refuses every third request with 503, and checks the counts.
func TestRun(t *testing.T) {
	var n int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var req loginRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"error":{"code":"invalid_json"}}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if req.Org != "default" || req.Email != "bench@example.org" || req.Password != "s3cret-pass" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":"invalid_credentials","message":"The email or password is incorrect."}}`)
			return
		}
		if n++; n%3 == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":{"code":"overloaded","message":"Try again."}}`)
			return
		}
		fmt.Fprint(w, `{"token":"t","expires_at":"2030-01-01T00:00:00Z","user":{}}`)
	})
	// One request at a time keeps n simple and the counts exact.
	srv := httptest.NewServer(serialize(mux))
	defer srv.Close()

	pwFile := t.TempDir() + "/pw"
	if err := os.WriteFile(pwFile, []byte("s3cret-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"-url", srv.URL, "-email", "bench@example.org", "-password-file", pwFile,
		"-clients", "1,3", "-duration", "300ms", "-hash-duration", "200ms", "-wait", "5s",
		"-pid", fmt.Sprint(os.Getpid()), "-db-pid", fmt.Sprint(os.Getpid()), "-json"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
	}
	if len(rep.Levels) != 2 {
		t.Fatalf("got %d levels, want 2:\n%s", len(rep.Levels), stdout.String())
	}
	for _, l := range rep.Levels {
		if l.Logins == 0 || l.Errors["503 overloaded"] == 0 || l.Requests != l.Logins+l.Errors["503 overloaded"] {
			t.Errorf("level %d: requests %d, logins %d, errors %v; want both logins and 503s, nothing else", l.Clients, l.Requests, l.Logins, l.Errors)
		}
		if l.Ratio == nil || l.CPUMsPerLogin == nil || l.PeakRSSMiB == nil || *l.PeakRSSMiB <= 0 ||
			l.DBCPUMsPerLogin == nil || l.MachineCPUMsPerLogin == nil || l.MachineIdlePct == nil || l.MachineStealPct == nil {
			t.Errorf("level %d: missing ratio, CPU or memory: %+v", l.Clients, l)
		}
	}
	if rep.Hash == nil || rep.Hash.AllRate <= 0 || rep.Hash.SingleRate <= 0 {
		t.Errorf("raw hash rate missing: %+v", rep.Hash)
	}
	// Measured before the first level and after each: every level has its
	// own reference, the mean of the two on either side.
	if len(rep.Hashes) != 3 {
		t.Fatalf("got %d raw hash measurements, want 3", len(rep.Hashes))
	}
	for i, l := range rep.Levels {
		want := (rep.Hashes[i].AllRate + rep.Hashes[i+1].AllRate) / 2
		if l.HashRef == nil || *l.HashRef != want || *l.Ratio != l.LoginsPerSec/want {
			t.Errorf("level %d: hash ref %v, ratio %v; want ref %.2f", l.Clients, l.HashRef, l.Ratio, want)
		}
		drift := 100 * math.Abs(rep.Hashes[i].AllRate-rep.Hashes[i+1].AllRate) / want
		if l.HashDriftPct == nil || math.Abs(*l.HashDriftPct-drift) > 1e-9 {
			t.Errorf("level %d: drift %v, want %.3f%%", l.Clients, l.HashDriftPct, drift)
		}
	}

	// A wrong password fails at once, with the server's answer.
	stdout.Reset()
	args = []string{"-url", srv.URL, "-email", "bench@example.org", "-password", "wrong", "-hash-duration", "0"}
	err := run(context.Background(), args, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "401 invalid_credentials") {
		t.Errorf("run with a wrong password: error %v, want one naming 401 invalid_credentials", err)
	}

	// A non-loopback URL is refused before any request.
	args = []string{"-url", "http://192.0.2.1:8080", "-email", "a@b", "-password", "x"}
	if err := run(context.Background(), args, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Errorf("run with a non-loopback URL: error %v, want a refusal", err)
	}
}

func serialize(h http.Handler) http.Handler {
	sem := make(chan struct{}, 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sem <- struct{}{}
		defer func() { <-sem }()
		h.ServeHTTP(w, r)
	})
}
