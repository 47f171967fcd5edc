package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procInfo is what /proc tells about the server process.
type procInfo struct {
	CPUTicks uint64 // utime + stime, in clock ticks
	RSSKiB   uint64 // VmRSS
	HWMKiB   uint64 // VmHWM: the peak RSS of the process's life
}

// readProc reads /proc/PID/stat and /proc/PID/status.
func readProc(pid int) (procInfo, error) {
	var p procInfo
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	if p.CPUTicks, err = parseStatCPU(stat); err != nil {
		return p, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	p.RSSKiB, p.HWMKiB = parseStatusMemory(status)
	return p, nil
}

// parseStatCPU returns utime+stime (fields 14 and 15) of a /proc/PID/stat
// line. The command name (field 2) is in parentheses and may hold spaces, so
// the fields are counted from the last ')'.
func parseStatCPU(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in %q", stat)
	}
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("too few fields in %q", stat)
	}
	utime, err := strconv.ParseUint(f[14-3], 10, 64)
	if err != nil {
		return 0, err
	}
	stime, err := strconv.ParseUint(f[15-3], 10, 64)
	if err != nil {
		return 0, err
	}
	return utime + stime, nil
}

// parseStatusMemory returns VmRSS and VmHWM, in KiB, of a /proc/PID/status
// file.
func parseStatusMemory(status []byte) (rss, hwm uint64) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(value)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}

// clockTicks returns the clock ticks per second of /proc/PID/stat:
// getconf CLK_TCK, which is 100 on Linux.
var clockTicks = sync.OnceValue(func() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 100
})

func kib(n uint64) float64 { return float64(n) / 1024 }

// rssSampler records the largest VmRSS of a process, sampled periodically.
type rssSampler struct {
	done chan struct{}
	peak chan uint64
}

func startRSSSampler(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{done: make(chan struct{}), peak: make(chan uint64, 1)}
	go func() {
		var peak uint64
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if p, err := readProc(pid); err == nil {
				peak = max(peak, p.RSSKiB)
			}
			select {
			case <-s.done:
				s.peak <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the largest VmRSS seen, in KiB.
func (s *rssSampler) stop() uint64 {
	close(s.done)
	return <-s.peak
}
