package rig

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables exported by .ci/with-rig.
const (
	EnvRig     = "IDREADER_RIG"           // "1" when the rig is up
	EnvPID     = "IDREADER_RIG_PCSCD_PID" // pcscd's pid when the command started
	EnvReaders = "IDREADER_RIG_READERS"   // reader names, ';'-separated
	EnvVPCD    = "IDREADER_RIG_VPCD"      // vpcd address per reader, ';'-separated
	EnvControl = "IDREADER_RIG_CONTROL"   // control script: restart|stop|start|pid
	EnvLock    = "IDREADER_RIG_LOCK"      // file rig users flock
	EnvLog     = "IDREADER_RIG_LOG"       // pcscd's debug log
	EnvRequire = "IDREADER_REQUIRE_RIG"   // non-empty: a missing rig fails tests
	EnvCI      = "CI"                     // non-empty: a missing rig fails tests
)

// Info describes the running rig.
type Info struct {
	// PCSCDPID is the pid of pcscd when the test began.
	PCSCDPID int
	// Readers are the PC/SC names of the rig's vpcd readers.
	Readers []string
	// VPCD[i] is the address a virtual card dials to enter Readers[i].
	VPCD []string
	// Control is the path of the control script.
	Control string
	// Log is pcscd's debug log.
	Log string
}

// howTo tells a developer how to get the rig.
const howTo = "the pcscd + vpcd rig is not running: apt-get install pcscd vsmartcard-vpcd libpcsclite-dev, then run through `make test` (or `.ci/with-rig go test ./...`)"

var (
	mu      sync.Mutex
	holders int
	unlock  func()
)

// Require returns the rig, or skips the test (t.Fatal instead when CI or
// IDREADER_REQUIRE_RIG is set) when the test does not run under
// .ci/with-rig. It holds the rig's cross-process lock until the test ends,
// so rig tests in different packages take turns; rig tests must not call
// t.Parallel.
func Require(tb testing.TB) Info {
	tb.Helper()
	info, err := lookup()
	if err != nil {
		if os.Getenv(EnvCI) != "" || os.Getenv(EnvRequire) != "" {
			tb.Fatalf("rig: %v (CI or %s is set, so this is a failure)", err, EnvRequire)
		}
		tb.Skipf("rig: %v", err)
	}
	acquire(tb)
	if pid, err := currentPID(info.Control); err == nil {
		info.PCSCDPID = pid
	}
	return info
}

func lookup() (Info, error) {
	if os.Getenv(EnvRig) != "1" {
		return Info{}, fmt.Errorf("%s", howTo)
	}
	info := Info{
		Readers: split(os.Getenv(EnvReaders)),
		VPCD:    split(os.Getenv(EnvVPCD)),
		Control: os.Getenv(EnvControl),
		Log:     os.Getenv(EnvLog),
	}
	info.PCSCDPID, _ = strconv.Atoi(os.Getenv(EnvPID))
	if len(info.Readers) == 0 || len(info.Readers) != len(info.VPCD) || info.Control == "" {
		return Info{}, fmt.Errorf("%s=1 but %s / %s / %s are incomplete", EnvRig, EnvReaders, EnvVPCD, EnvControl)
	}
	return info, nil
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

func acquire(tb testing.TB) {
	mu.Lock()
	defer mu.Unlock()
	if holders == 0 {
		path := os.Getenv(EnvLock)
		if path != "" {
			u, err := lockFile(path)
			if err != nil {
				tb.Fatalf("rig: locking %s: %v", path, err)
			}
			unlock = u
		}
	}
	holders++
	tb.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		holders--
		if holders == 0 && unlock != nil {
			unlock()
			unlock = nil
		}
	})
}

// RestartPCSCD stops the rig's pcscd with SIGTERM, waits for it to exit,
// starts a new one and waits for its socket. It returns the new pid.
// Virtual cards must redial (holder/vpcd.Serve does).
func RestartPCSCD(tb testing.TB) int {
	tb.Helper()
	return control(tb, "restart")
}

// StopPCSCD stops the rig's pcscd and waits for it to exit. The rig
// restarts it when the test ends if the test did not.
func StopPCSCD(tb testing.TB) {
	tb.Helper()
	control(tb, "stop")
	tb.Cleanup(func() { control(tb, "start") })
}

// StartPCSCD starts the rig's pcscd if it is stopped, waits for its socket,
// and returns its pid.
func StartPCSCD(tb testing.TB) int {
	tb.Helper()
	return control(tb, "start")
}

func control(tb testing.TB, cmd string) int {
	tb.Helper()
	info, err := lookup()
	if err != nil {
		tb.Fatalf("rig: %v", err)
	}
	start := time.Now()
	out, err := exec.Command(info.Control, cmd).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		tb.Fatalf("rig: %s %s: %v %s", info.Control, cmd, err, msg)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		tb.Fatalf("rig: %s %s printed %q", info.Control, cmd, out)
	}
	tb.Logf("rig: pcscd %s took %v (pid %d)", cmd, time.Since(start).Round(time.Millisecond), pid)
	return pid
}

func currentPID(controlPath string) (int, error) {
	out, err := exec.Command(controlPath, "pid").Output()
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}
