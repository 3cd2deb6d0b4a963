package main

import (
	"reflect"
	"testing"
)

func TestParseFlags_QuickFillsOnlyWhatWasNotGivenAndTargetsKeepTheirOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		args     []string
		mails    []int
		bigCases int
		targets  []target
	}{
		{"defaults build the working tree", nil, []int{2000, 10000}, 200000, []target{{name: "new", src: "."}}},
		{"quick", []string{"-quick"}, []int{2000}, 50000, []target{{name: "new", src: "."}}},
		{"explicit flags win over quick", []string{"-quick", "-mails", "500", "-big-cases", "0"}, []int{500}, 0, []target{{name: "new", src: "."}}},
		{"old and new, binary and source", []string{"-src", "old=/tmp/o", "-bin", "new=/b/new", "-bin", "old=/b/old"}, []int{2000, 10000}, 200000,
			[]target{{name: "new", bin: "/b/new"}, {name: "old", bin: "/b/old", src: "/tmp/o"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseFlags(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.mails, tc.mails) || cfg.bigCases != tc.bigCases || !reflect.DeepEqual(cfg.targets, tc.targets) {
				t.Errorf("got mails %v, big cases %d, targets %+v; want %v, %d, %+v", cfg.mails, cfg.bigCases, cfg.targets, tc.mails, tc.bigCases, tc.targets)
			}
		})
	}
}

func TestParseFlags_RefusesAMalformedBinary(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-bin", "new"}, {"-bin", "a b=/x"}, {"-bin", "x=/a", "-bin", "x=/b"}, {"-mails", "5"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) succeeded", args)
		}
	}
}
