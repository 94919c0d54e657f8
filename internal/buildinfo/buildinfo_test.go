package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFrom(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/idreader/idreader", Version: "v0.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123abcd"},
			{Key: "vcs.modified", Value: "false"},
		},
	}
	dirty := &debug.BuildInfo{
		GoVersion: "go1.26.1",
		Main:      debug.Module{Path: "github.com/idreader/idreader", Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "feedbeef"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	bare := &debug.BuildInfo{GoVersion: "go1.26.2", Main: debug.Module{Version: "(devel)"}}
	for _, tc := range []struct {
		name             string
		ldVersion, ldRev string
		bi               *debug.BuildInfo
		want             Info
	}{
		{"linker wins", "1.2.3", "abc", stamped, Info{"1.2.3", "abc", "go1.26.0"}},
		{"module version and vcs", "", "", stamped, Info{"v0.4.0", "0123abcd", "go1.26.0"}},
		{"linker version, vcs commit", "1.2.3", "", stamped, Info{"1.2.3", "0123abcd", "go1.26.0"}},
		{"devel tree with changes", "", "", dirty, Info{"devel", "feedbeef-dirty", "go1.26.1"}},
		{"no vcs stamp", "", "", bare, Info{"devel", Unknown, "go1.26.2"}},
		{"no build info", "", "", nil, Info{"devel", Unknown, Unknown}},
		{"no build info, linker values", "2.0.0", "cafe", nil, Info{"2.0.0", "cafe", Unknown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := From(tc.ldVersion, tc.ldRev, tc.bi); got != tc.want {
				t.Errorf("From = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReadRunningBinary(t *testing.T) {
	i := Read()
	if i.GoVersion != runtime.Version() {
		t.Errorf("GoVersion %q, want %q", i.GoVersion, runtime.Version())
	}
	if i.Version == "" || i.Commit == "" {
		t.Errorf("empty field in %+v", i)
	}
}

func TestString(t *testing.T) {
	got := Info{"1.2.3", "abc", "go1.26.0"}.String()
	if want := "1.2.3 (commit abc, go1.26.0)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
