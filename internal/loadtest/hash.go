package main

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// The argon2id cost of a Latchkey password hash: password.DefaultParams, the
// OWASP minimum. Computed here directly so that the reference rate does not
// depend on the server's code, its limiter or its queue.
const (
	argonTime    = 2
	argonMemory  = 19456 // KiB
	argonThreads = 1
	argonKeyLen  = 32
)

type hashResult struct {
	Workers    int     `json:"workers"`
	SingleRate float64 `json:"single_core_hashes_per_sec"`
	AllRate    float64 `json:"all_cores_hashes_per_sec"`
}

// measureHashRate measures argon2id hashes per second from one goroutine
// per CPU for d, and from a single goroutine for d/2.
func measureHashRate(ctx context.Context, d time.Duration) hashResult {
	workers := runtime.NumCPU()
	all := hashRate(ctx, workers, d)
	single := hashRate(ctx, 1, d/2)
	return hashResult{Workers: workers, SingleRate: single, AllRate: all}
}

// hashRate runs argon2id from workers goroutines until d has passed, and
// returns the hashes per second.
func hashRate(ctx context.Context, workers int, d time.Duration) float64 {
	password := []byte("correct-horse-battery-9")
	salt := []byte("latchkey-loadtst") // 16 bytes, like a real salt
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range workers {
		wg.Go(func() {
			// At least one hash each, so that a short d still gives a rate.
			for {
				argon2.IDKey(password, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
				n.Add(1)
				if time.Now().After(deadline) || ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
