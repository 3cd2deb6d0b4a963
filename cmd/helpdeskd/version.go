package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// buildInfo is what `helpdeskd version` prints: main.version (set by the
// Makefile with -ldflags "-X main.version=$(git describe)") and what the Go
// toolchain recorded in the binary — module version, Go version and, for a
// build from a checkout, the VCS revision, its time and whether the tree had
// uncommitted changes.
type buildInfo struct {
	Version   string // main.version
	Module    string // module path
	ModuleVer string // "(devel)" for a build from a checkout
	GoVersion string
	Revision  string
	Time      string
	Modified  bool
}

// revision is the VCS revision, set by the Makefile with -ldflags
// "-X main.revision=..." for builds where Go records none (-buildvcs=false,
// a build outside the checkout).
var revision = ""

func cmdVersion(w io.Writer) error {
	readBuildInfo(debug.ReadBuildInfo).print(w)
	return nil
}

func readBuildInfo(read func() (*debug.BuildInfo, bool)) buildInfo {
	b := buildInfo{Version: version, Revision: revision}
	bi, ok := read()
	if !ok {
		return b
	}
	b.Module, b.ModuleVer, b.GoVersion = bi.Main.Path, bi.Main.Version, bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value // what the toolchain saw wins
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

func (b buildInfo) print(w io.Writer) {
	fmt.Fprintln(w, "helpdeskd", b.Version)
	if b.Module != "" {
		fmt.Fprintf(w, "module    %s %s\n", b.Module, b.ModuleVer)
	}
	if b.GoVersion != "" {
		fmt.Fprintf(w, "go        %s\n", b.GoVersion)
	}
	rev := b.Revision
	if rev == "" {
		rev = "unknown (built without VCS information)"
	} else if b.Modified {
		rev += " (modified)"
	}
	fmt.Fprintf(w, "revision  %s\n", rev)
	if b.Time != "" {
		fmt.Fprintf(w, "committed %s\n", b.Time)
	}
}
