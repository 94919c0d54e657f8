# idreader — see README.md. `make test` is the one command that runs every test.
GO ?= go

# Without libpcsclite's headers (a developer machine where `make deps` could
# not install them) the PC/SC adapter cannot be built with cgo: build and test
# the tree without cgo then (reader/pcsc becomes its stub and the rig tests
# skip, saying how to get the packages). In CI the packages are installed.
ifeq ($(shell pkg-config --exists libpcsclite 2>/dev/null && echo yes),)
export CGO_ENABLED := 0
endif
FUZZTIME ?= 5s

# staticcheck at a fixed version, fetched through the module proxy on first
# use and cached by the go command; it is not a requirement of go.mod.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

# The pure core, and reader (whose PC/SC event-state machine is pure): tested
# without cgo as well (only reader/pcsc's adapter uses cgo). Packages listed
# here that do not exist (yet) are left out.
PURE_PKGS := mdoc nfc session verify policy ble cose reason reader
PURE := $(foreach p,$(PURE_PKGS),$(if $(wildcard $(p)/*.go),./$(p)/...))

.PHONY: all build test test-all test-race test-nocgo lint fuzz-short vet demo verify-demo deps bench clean soak conformance conformance-check

all: build

build:
	$(GO) build ./...

vet:
	$(GO) vet ./...

# lint holds the habits every change keeps: formatted (gofmt -l prints
# nothing), go.mod tidy (go mod tidy -diff prints nothing), go vet and
# staticcheck clean.
lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then \
		echo "gofmt -l: these files need gofmt -w:"; echo "$$unformatted"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(STATICCHECK) ./...

# deps installs what the end-to-end rig needs when it can (root + apt-get);
# without it the rig tests skip with a message on a developer machine.
deps:
	@./.ci/install-deps || echo "note: could not install the pcsc-lite rig packages; end-to-end tests will skip"

# test runs everything: the lint gates, the cgo-free build and the pure
# packages' tests without cgo, the unit tests, the tests through pcscd + vpcd
# (started by .ci/with-rig), and a short fuzz pass.
test: deps
	$(MAKE) test-all

test-all: lint test-nocgo test-race conformance-check
	./.ci/with-rig $(GO) test -count=1 ./...
	$(MAKE) fuzz-short

# conformance writes docs/conformance.md from the tests of
# internal/conformance (Annex D values, Apple Wallet captures, the negative
# catalogue, fault and removal campaigns, clause 9.3.1); conformance-check
# fails when the committed report differs from what the tests prove now.
conformance:
	$(GO) test -count=1 -json ./internal/conformance | $(GO) run ./internal/conformance/gen > docs/conformance.md.tmp
	mv docs/conformance.md.tmp docs/conformance.md

conformance-check:
	@tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; \
	$(GO) test -count=1 -json ./internal/conformance | $(GO) run ./internal/conformance/gen > $$tmp && \
	if ! diff -u docs/conformance.md $$tmp; then \
		echo "docs/conformance.md is stale: run make conformance and commit it"; exit 1; fi

# test-race runs the pure packages and the simulated wallet under the race
# detector (the rig tests run once, above, without it).
test-race:
ifeq ($(CGO_ENABLED),0)
	@echo "test-race: skipped: the race detector needs cgo (make deps installs what it needs; CI always runs it)"
else
	$(GO) test -race -count=1 ./mdoc/... ./cose/... ./session/... ./verify/... ./policy/... ./reason/... ./nfc/... ./ble/... ./holder/... ./terminal/... ./daemon/...
endif

# test-nocgo builds and vets the tree without cgo and runs the pure packages'
# tests without it.
test-nocgo:
	CGO_ENABLED=0 $(GO) build ./...
	CGO_ENABLED=0 $(GO) vet ./...
	CGO_ENABLED=0 $(GO) test -count=1 $(PURE)

fuzz-short:
	./.ci/fuzz-all $(FUZZTIME)

bench:
	./.ci/with-rig $(GO) test -run '^$$' -bench . -benchmem ./...

# soak runs SOAK_TAPS taps (default 10,000) through pcscd + vpcd into a
# built idreaderd (the cgo binary, one reader per rig reader), with its POS
# event stream and kiosk display stream attached and a check armed before
# every tenth tap, and reports the daemon's RSS (anonymous and file pages,
# by mapping from /proc/PID/smaps) every 1,000 taps, its threads, fds and
# goroutines (internal/e2e TestSoak); it fails when the daemon's RSS grew
# over 2 MB after warm-up or threads, fds or goroutines grew. Not part of
# make test. It taps on every rig reader at once: the rig's default 4
# readers take about 210 ms per tap (10,000 taps in about 35 minutes);
# IDREADER_RIG_ENTRIES=3 (6 readers) took about 135 ms with the daemon in
# the test process.
SOAK_TAPS ?= 10000
soak:
	./.ci/with-rig $(GO) test -count=1 -timeout 0 -run '^TestSoak$$' -v ./internal/e2e -soak.taps $(SOAK_TAPS)

# demo runs the daemon on its embedded default (simulated reader and wallet).
# It needs no PC/SC library, so it is built without cgo and runs on any
# machine with Go.
demo:
	CGO_ENABLED=0 $(GO) run ./cmd/idreaderd --demo

# verify-demo verifies the bundled Annex D DeviceResponse offline.
verify-demo:
	$(GO) run ./cmd/idreader verify --trust testdata/annexd/iaca_cert.hex \
		--transcript testdata/annexd/session_transcript_bytes.hex \
		--reader-key testdata/annexd/e_reader_key.pem \
		--now 2021-01-01T00:00:00Z testdata/annexd/device_response.hex

clean:
	rm -rf bin .rig dist

# --- Debian packages (deploy/nfpm.yaml) -------------------------------------
# deb writes dist/idreader_$(VERSION)_amd64.deb and _arm64.deb. Both binaries
# link pcsc-lite with cgo; arm64 is cross-built with Debian's
# crossbuild-essential-arm64 and libpcsclite-dev:arm64 (deb-deps installs
# them as root). nfpm runs with `go run`, so it is no module dependency.
VERSION ?= $(shell ./.ci/version)
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
DEB_MAINTAINER ?= $(shell git log -1 --format='%an <%ae>' 2>/dev/null)
LDFLAGS = -s -w -X github.com/idreader/idreader/internal/buildinfo.version=$(VERSION) \
	-X github.com/idreader/idreader/internal/buildinfo.commit=$(COMMIT)
NFPM = $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
CC_amd64 = gcc
CC_arm64 = aarch64-linux-gnu-gcc
PKGCONFIG_amd64 = /usr/lib/x86_64-linux-gnu/pkgconfig:/usr/share/pkgconfig
PKGCONFIG_arm64 = /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig

.PHONY: deb deb-deps deb-amd64 deb-arm64 check-deb

deb-deps:
	./.ci/install-deb-deps

deb: deb-deps
	$(MAKE) deb-amd64 deb-arm64

deb-amd64 deb-arm64: deb-%:
	mkdir -p dist/$*
	CGO_ENABLED=1 GOOS=linux GOARCH=$* CC=$(CC_$*) PKG_CONFIG_LIBDIR=$(PKGCONFIG_$*) \
		$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/$*/ ./cmd/idreader ./cmd/idreaderd
	VERSION='$(VERSION)' DEB_ARCH=$* DEB_MAINTAINER='$(DEB_MAINTAINER)' \
		$(NFPM) package --config deploy/nfpm.yaml --packager deb --target dist/idreader_$(VERSION)_$*.deb

# check-deb installs the amd64 package on this machine (root), checks the
# installed configuration and units, runs the arm64 tool under qemu, and
# purges the package again (.ci/check-deb).
check-deb: deb
	./.ci/check-deb dist/idreader_$(VERSION)_amd64.deb dist/idreader_$(VERSION)_arm64.deb
