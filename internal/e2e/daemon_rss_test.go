package e2e

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/rig"
)

// idleSettle is how long the daemon idles before its RSS is read.
const idleSettle = 3 * time.Second

// procStatusOf returns a field of /proc/PID/status in kB (VmRSS, VmHWM), or
// -1 if it cannot be read.
func procStatusOf(pid int, field string) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				v, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					return v
				}
			}
		}
	}
	return -1
}

// freeLoopbackAddr returns a loopback address with a port nobody listens on
// at the time of the call.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDaemonIdleRSS runs a built idreaderd, configured as an operator would
// (deploy/idreaderd.example.yaml trimmed to one PC/SC reader of the rig,
// console output, HTTP on loopback, an audit file), waits until /healthz
// reports the reader up, lets it idle with no tap, and logs its resident
// set size from /proc/PID/status (a figure for docs/performance.md, not a
// gate: most of it is pages of the binary, and how many of them a kernel
// keeps resident varies between machines). Then it stops it with SIGTERM,
// which must end it cleanly.
//
//	.ci/with-rig go test -count=1 -run DaemonIdleRSS -v ./internal/e2e/
func TestDaemonIdleRSS(t *testing.T) {
	d := startIdreaderd(t, rig.Require(t))
	cmd, stop := d.cmd, d.stop
	t.Logf("idreaderd start to ready (exec to READY=1 on $NOTIFY_SOCKET): %v", d.ready.Round(100*time.Microsecond))
	time.Sleep(idleSettle)
	pid := cmd.Process.Pid
	rss, hwm := procStatusOf(pid, "VmRSS"), procStatusOf(pid, "VmHWM")
	threads := procStatusOf(pid, "Threads")
	if rss <= 0 {
		t.Fatalf("VmRSS of idreaderd (pid %d): %v", pid, rss)
	}
	t.Logf("idreaderd idle %v after ready, one PC/SC reader, no tap: VmRSS %.1f MB (%.0f kB: anonymous %.0f kB, file %.0f kB), VmHWM %.1f MB, %.0f threads",
		idleSettle, rss/1024, rss, procStatusOf(pid, "RssAnon"), procStatusOf(pid, "RssFile"), hwm/1024, threads)

	if err := stop(); err != nil {
		t.Errorf("idreaderd after SIGTERM: %v", err)
	}
}
