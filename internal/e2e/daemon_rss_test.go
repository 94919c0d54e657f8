package e2e

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
// set size from /proc/PID/status. Then it stops it with SIGTERM, which must
// end it cleanly.
//
//	.ci/with-rig go test -count=1 -run DaemonIdleRSS -v ./internal/e2e/
func TestDaemonIdleRSS(t *testing.T) {
	info := rig.Require(t)
	f := getFixture(t)
	dir := t.TempDir()
	if err := f.pki.Save(filepath.Join(dir, "pki")); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "idreaderd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/idreader/idreader/cmd/idreaderd").CombinedOutput(); err != nil {
		t.Fatalf("building idreaderd: %v\n%s", err, out)
	}
	addr := freeLoopbackAddr(t)
	conf := filepath.Join(dir, "idreaderd.yaml")
	// strconv.Quote gives a YAML double-quoted scalar for a reader name.
	text := `readers:
  - name: counter
    driver: pcsc
    device: ` + strconv.Quote(info.Readers[0]) + `
    profile: age-20
    identity: counter
    outputs: [console]
trust:
  - pki/iaca.pem
identities:
  counter:
    cert: pki/reader.pem
    key: pki/reader_key.pem
outputs:
  console:
    type: console
http:
  listen: ` + addr + `
logging:
  level: info
  audit: audit.jsonl
`
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	// Start to ready: from exec to the READY=1 datagram on $NOTIFY_SOCKET
	// (sd_notify, as under systemd Type=notify).
	sock := filepath.Join(dir, "notify.sock")
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "--config", conf)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan time.Duration, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := notify.Read(buf)
			if err != nil {
				return
			}
			if bytes.Contains(buf[:n], []byte("READY=1")) {
				ready <- time.Since(started)
				return
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Error("idreaderd did not stop within 15 s of SIGTERM")
			return nil
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("idreaderd stderr:\n%s", stderr.String())
		}
	})

	// Ready: the API answers and the reader is up.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("idreaderd not healthy within 20 s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case d := <-ready:
		t.Logf("idreaderd start to ready (exec to READY=1): %v", d.Round(100*time.Microsecond))
	case <-time.After(5 * time.Second):
		t.Error("idreaderd sent no READY=1")
	}
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
