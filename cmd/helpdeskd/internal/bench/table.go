package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// results collects figures per binary, in the order they were first
// reported; a figure measured in several runs shows its median.
type results struct {
	mu     sync.Mutex
	labels []string
	vals   map[string]map[string][]float64 // label → binary → one value per run
	notes  []string
}

func newResults() *results { return &results{vals: map[string]map[string][]float64{}} }

func (r *results) add(bin, label string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.vals[label] == nil {
		r.vals[label] = map[string][]float64{}
		r.labels = append(r.labels, label)
	}
	r.vals[label][bin] = append(r.vals[label][bin], v)
}

func (r *results) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// print writes the table: rows are figures, columns binaries.
func (r *results) print(w io.Writer, bins []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	width := len("figure")
	for _, l := range r.labels {
		width = max(width, len([]rune(l)))
	}
	cols := make([]int, len(bins))
	cells := make([][]string, len(r.labels))
	for i, l := range r.labels {
		for j, b := range bins {
			c := format(r.vals[l][b])
			cells[i] = append(cells[i], c)
			cols[j] = max(cols[j], len(c), len(b))
		}
	}
	line := func(first string, rest []string) {
		fmt.Fprintf(w, "%s%s", first, strings.Repeat(" ", width-len([]rune(first))))
		for j, c := range rest {
			fmt.Fprintf(w, "  %*s", cols[j], c)
		}
		fmt.Fprintln(w)
	}
	line("figure", bins)
	seps := make([]string, len(bins))
	for j := range bins {
		seps[j] = strings.Repeat("-", cols[j])
	}
	line(strings.Repeat("-", width), seps)
	for i, l := range r.labels {
		line(l, cells[i])
	}
	for _, n := range r.notes {
		fmt.Fprintln(w, "note:", n)
	}
}

// format prints the median of a figure's runs with three significant
// digits (whole numbers as they are), and the range when runs differ.
func format(vs []float64) string {
	if len(vs) == 0 {
		return "–"
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	out := num(med)
	if len(s) > 1 && s[0] != s[len(s)-1] {
		out += " (" + num(s[0]) + "–" + num(s[len(s)-1]) + ")"
	}
	return out
}

func num(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v == math.Trunc(v) && math.Abs(v) < 1e9:
		return strconv.FormatInt(int64(v), 10)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
}
