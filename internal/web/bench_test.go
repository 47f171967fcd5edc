package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/password"
)

// BenchmarkLogin is a full HTTP sign-in round trip on SQLite at the default
// argon2id cost: decode, look up, verify, create the session, audit, encode.
func BenchmarkLogin(b *testing.B) {
	d := password.DefaultParams()
	e := newEnv(b, envOpts{params: &d, limiter: password.DefaultLimiter()})
	body := `{"org":"metro","email":"ann@example.org","password":"` + adminPassword + `"}`
	c := e.ts.Client()
	for b.Loop() {
		res, err := c.Post(e.ts.URL+"/api/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

// BenchmarkLoginParallel is the same with as many clients as cores.
func BenchmarkLoginParallel(b *testing.B) {
	d := password.DefaultParams()
	e := newEnv(b, envOpts{params: &d, limiter: password.DefaultLimiter()})
	body := `{"org":"metro","email":"ann@example.org","password":"` + adminPassword + `"}`
	c := e.ts.Client()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := c.Post(e.ts.URL+"/api/v1/auth/login", "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}

// BenchmarkAuthenticate is a signed-in API read: the per-request cost that
// every call beyond sign-in pays.
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b, envOpts{})
	tok := e.token()
	c := e.ts.Client()
	for b.Loop() {
		req, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
