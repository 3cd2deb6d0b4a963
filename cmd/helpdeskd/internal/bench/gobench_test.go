package main

import (
	"reflect"
	"testing"
)

func TestParseBench_KeepsEveryMetricAndDropsTheProcsSuffix(t *testing.T) {
	t.Parallel()
	out := `goos: linux
BenchmarkIMAPToPostgres-2   	       1	 812345678 ns/op	        64.2 msg/s	      10.5 stmts/msg
BenchmarkDispatch/batch-2   	       3	   1000 ns/op
--- FAIL: BenchmarkBroken
PASS
ok  	github.com/helpdesk/helpdesk/cmd/helpdeskd	3.1s
`
	want := []benchMetric{
		{"IMAPToPostgres", "ns/op", 812345678},
		{"IMAPToPostgres", "msg/s", 64.2},
		{"IMAPToPostgres", "stmts/msg", 10.5},
		{"Dispatch/batch", "ns/op", 1000},
	}
	if got := parseBench(out); !reflect.DeepEqual(got, want) {
		t.Errorf("parseBench =\n%v\nwant\n%v", got, want)
	}
}
