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

// statFields are the fields of a /proc/PID/stat line the tool uses.
type statFields struct {
	PPID           int
	UTime, STime   uint64 // the process's own CPU, in clock ticks
	CUTime, CSTime uint64 // the CPU of its children that have exited and been waited for
}

// parseStat reads a /proc/PID/stat line. The command name (field 2) is in
// parentheses and may hold spaces, so the fields are counted from the last
// ')'.
func parseStat(stat []byte) (statFields, error) {
	var s statFields
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("no command name in %q", stat)
	}
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3
	if len(f) < 15 {
		return s, fmt.Errorf("too few fields in %q", stat)
	}
	var v [18]uint64
	for _, n := range []int{4, 14, 15, 16, 17} { // numbered from 1, as in proc(5)
		var err error
		if v[n], err = strconv.ParseUint(f[n-3], 10, 64); err != nil {
			return s, fmt.Errorf("field %d of %q: %w", n, stat, err)
		}
	}
	s.PPID = int(v[4])
	s.UTime, s.STime, s.CUTime, s.CSTime = v[14], v[15], v[16], v[17]
	return s, nil
}

// parseStatCPU returns utime+stime (fields 14 and 15) of a /proc/PID/stat
// line.
func parseStatCPU(stat []byte) (uint64, error) {
	s, err := parseStat(stat)
	return s.UTime + s.STime, err
}

// treeCPU returns the CPU, in clock ticks, that the process root and its
// children have used: its own, that of its living children and that of the
// children it has waited for. A PostgreSQL server's postmaster is such a
// root: every backend is its child.
func treeCPU(root int) (uint64, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", root))
	if err != nil {
		return 0, err
	}
	r, err := parseStat(stat)
	if err != nil {
		return 0, err
	}
	total := r.UTime + r.STime + r.CUTime + r.CSTime
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		if c, err := parseStat(stat); err == nil && c.PPID == root {
			total += c.UTime + c.STime + c.CUTime + c.CSTime
		}
	}
	return total, nil
}

// cpuTicks are the clock ticks of every CPU of the machine, from the first
// line of /proc/stat: busy (user, nice, system, irq, softirq), idle (idle
// and iowait) and stolen (given by the hypervisor to other machines).
type cpuTicks struct {
	Busy, Idle, Steal uint64
}

// machineCPU reads the machine's CPU ticks so far.
func machineCPU() (cpuTicks, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTicks{}, err
	}
	return parseMachineCPU(b)
}

func parseMachineCPU(b []byte) (cpuTicks, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTicks{}, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		var err error
		if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return cpuTicks{}, fmt.Errorf("/proc/stat: %w", err)
		}
	}
	return cpuTicks{Busy: v[0] + v[1] + v[2] + v[5] + v[6], Idle: v[3] + v[4], Steal: v[7]}, nil
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
