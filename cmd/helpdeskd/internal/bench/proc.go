package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on every Linux
// the benchmark runs on).
const clockTicks = 100

// procCPU is one process's CPU from /proc/PID/stat: its own user+system
// time plus that of its children it has reaped, in clock ticks.
type procCPU struct {
	ppid  int
	ticks int64
}

// readProcs reads every process's CPU and parent.
func readProcs() map[int]procCPU {
	out := map[int]procCPU{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		if p, ok := parseStat(b); ok {
			out[pid] = p
		}
	}
	return out
}

// parseStat reads ppid and utime+stime+cutime+cstime from a stat line; the
// command name in parentheses may hold spaces, so fields count from its end.
func parseStat(b []byte) (procCPU, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procCPU{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17.
	if len(f) < 15 {
		return procCPU{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	var t int64
	for _, s := range f[11:15] {
		v, _ := strconv.ParseInt(s, 10, 64)
		t += v
	}
	return procCPU{ppid: ppid, ticks: t}, true
}

// treeTicks sums root and its live descendants. Each process counts the
// children it reaped (cutime, cstime), so CPU of a process that exited
// between two readings is still in its parent's figure: a difference of two
// readings is the tree's CPU over the interval.
func treeTicks(procs map[int]procCPU, roots ...int) int64 {
	in := map[int]bool{}
	for _, r := range roots {
		if r > 0 {
			in[r] = true
		}
	}
	var isIn func(pid, depth int) bool
	isIn = func(pid, depth int) bool {
		if in[pid] {
			return true
		}
		p, ok := procs[pid]
		if !ok || p.ppid <= 1 || depth > 32 {
			return false
		}
		return isIn(p.ppid, depth+1)
	}
	var sum int64
	for pid, p := range procs {
		if isIn(pid, 0) {
			sum += p.ticks
		}
	}
	return sum
}

// hostBusy is the machine's non-idle CPU time over all cores from /proc/stat.
func hostBusy() int64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0
	}
	fields := strings.Fields(sc.Text()) // cpu user nice system idle iowait irq softirq steal
	var busy int64
	for i, s := range fields[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		v, _ := strconv.ParseInt(s, 10, 64)
		busy += v
	}
	return busy
}

// peakRSS is a process's VmHWM in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// cpuSnap is the CPU of the processes a scenario watches at one instant.
type cpuSnap struct {
	at                   time.Time
	daemon, pg, mail, hs int64 // ticks
}

// watched names the process trees a snapshot reads.
type watched struct {
	daemon, postmaster, dovecot, postfix int
}

func (w watched) snap() cpuSnap {
	procs := readProcs()
	return cpuSnap{
		at:     time.Now(),
		daemon: treeTicks(procs, w.daemon),
		pg:     treeTicks(procs, w.postmaster),
		mail:   treeTicks(procs, w.dovecot, w.postfix),
		hs:     hostBusy(),
	}
}

// cpuDelta is CPU seconds spent between two snapshots.
type cpuDelta struct {
	wall                   time.Duration
	daemon, pg, mail, host float64 // seconds
}

func (a cpuSnap) to(b cpuSnap) cpuDelta {
	sec := func(t int64) float64 { return float64(t) / clockTicks }
	return cpuDelta{
		wall: b.at.Sub(a.at), daemon: sec(b.daemon - a.daemon), pg: sec(b.pg - a.pg),
		mail: sec(b.mail - a.mail), host: sec(b.hs - a.hs),
	}
}
