package main

import "testing"

func TestParseStat_SumsOwnAndReapedChildrensTimeDespiteSpacesInTheName(t *testing.T) {
	t.Parallel()
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
	line := []byte("4242 (postgres: 15/main: a (b)) S 17 4242 4242 0 -1 4194560 100 0 0 0 30 12 5 3 20 0 1 0 100 0 0")
	got, ok := parseStat(line)
	if !ok || got.ppid != 17 || got.ticks != 30+12+5+3 {
		t.Errorf("parseStat = %+v, %v; want ppid 17, 50 ticks", got, ok)
	}
}

func TestTreeTicks_CountsDescendantsOnlyOfTheRoots(t *testing.T) {
	t.Parallel()
	procs := map[int]procCPU{
		10: {ppid: 1, ticks: 100}, // root, including reaped children
		11: {ppid: 10, ticks: 7},
		12: {ppid: 11, ticks: 3},  // grandchild
		20: {ppid: 1, ticks: 999}, // someone else
		21: {ppid: 20, ticks: 999},
	}
	if got := treeTicks(procs, 10); got != 110 {
		t.Errorf("treeTicks(10) = %d, want 110", got)
	}
	if got := treeTicks(procs, 0); got != 0 {
		t.Errorf("treeTicks(no root) = %d, want 0", got)
	}
}

func TestFormat_MedianWithRangeOfRuns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		vals []float64
		want string
	}{
		{nil, "–"},
		{[]float64{1400}, "1400"},
		{[]float64{23.456}, "23.5"},
		{[]float64{0.0123}, "0.012"},
		{[]float64{30, 10, 20}, "20 (10–30)"},
		{[]float64{2.5, 3.5}, "3 (2.50–3.50)"},
	} {
		if got := format(tc.vals); got != tc.want {
			t.Errorf("format(%v) = %q, want %q", tc.vals, got, tc.want)
		}
	}
}
