// Package buildinfo tells which build of idreader is running: the version,
// the source commit and the Go version, for `idreader version`,
// `idreaderd --version`, /healthz and the idreader_build_info metric.
//
// The version and commit come from the linker when the build sets them
// (the Makefile does for release builds and packages):
//
//	go build -ldflags "-X github.com/idreader/idreader/internal/buildinfo.version=1.2.3
//	  -X github.com/idreader/idreader/internal/buildinfo.commit=0123abc" ./cmd/...
//
// and otherwise from the build information Go embeds in the binary (the
// module version under `go install module@version`, vcs.revision when the
// build stamped version control information).
package buildinfo
