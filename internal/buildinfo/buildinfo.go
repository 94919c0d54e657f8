package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Set by the linker (-ldflags -X); empty in a plain `go build`.
var (
	version string
	commit  string
)

// Unknown stands for a field the build did not record.
const Unknown = "unknown"

// Info is the provenance of one build.
type Info struct {
	// Version is the release version (e.g. "0.3.0"), the module version
	// of a `go install`, or "devel" for a build from a source tree.
	Version string `json:"version"`
	// Commit is the source revision, with "-dirty" appended when the tree
	// had uncommitted changes, or Unknown.
	Commit string `json:"commit"`
	// GoVersion is the toolchain that built the binary (e.g. "go1.26.0").
	GoVersion string `json:"goversion"`
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return From(version, commit, bi)
}

// From combines the linker-set version and commit (either may be empty)
// with the embedded build information bi (nil when the binary has none).
// The linker's values win; every field of the result is non-empty.
func From(ldVersion, ldCommit string, bi *debug.BuildInfo) Info {
	info := Info{Version: ldVersion, Commit: ldCommit}
	if bi != nil {
		info.GoVersion = bi.GoVersion
		if info.Version == "" {
			if v := bi.Main.Version; v != "" && v != "(devel)" {
				info.Version = v
			}
		}
		if info.Commit == "" {
			var rev string
			var dirty bool
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					dirty = s.Value == "true"
				}
			}
			if rev != "" {
				if dirty {
					rev += "-dirty"
				}
				info.Commit = rev
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Commit == "" {
		info.Commit = Unknown
	}
	if info.GoVersion == "" {
		info.GoVersion = Unknown
	}
	return info
}

// String is the one line the commands print, e.g.
// "0.3.0 (commit 0123abc, go1.26.0)".
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s)", i.Version, i.Commit, i.GoVersion)
}
