package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
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
	"github.com/idreader/idreader/internal/syncbuf"
)

// idreaderd is a built idreaderd running on the rig.
type idreaderd struct {
	cmd    *exec.Cmd
	bin    string          // the binary it runs
	addr   string          // its HTTP listener on loopback
	stderr *syncbuf.Buffer // its log
	// names[k] is its name for the rig reader at vpcd address addrs[k].
	names, addrs []string
	// stop sends SIGTERM and waits for the exit; idempotent.
	stop func() error
	// ready is the time from exec to READY=1 on $NOTIFY_SOCKET.
	ready time.Duration
}

// idreaderdOptions vary the idreaderd startIdreaderdWith runs; the zero
// value is startIdreaderd's.
type idreaderdOptions struct {
	// readers is as rigOptions.readers: 0 is one reader "counter" on the
	// rig's first reader, n > 0 (or allReaders) readers counter-0 …
	// counter-(n-1) on the rig's first n.
	readers int
	// profile is every reader's profile (age-20 when empty).
	profile string
	// hold is every reader's timeouts.hold (the default when empty).
	hold string
	// logLevel is logging.level (info when empty).
	logLevel string
	// env is added to the daemon's environment (GODEBUG=gctrace=1).
	env []string
	// stdout receives the console output (kept in a buffer when nil).
	stdout io.Writer
}

// startIdreaderd builds and runs idreaderd, configured as an operator
// would (deploy/idreaderd.example.yaml trimmed to one PC/SC reader of the
// rig, console output, HTTP on loopback, an audit file), and returns once
// /healthz reports the reader up.
func startIdreaderd(t *testing.T, info rig.Info) *idreaderd {
	t.Helper()
	return startIdreaderdWith(t, info, idreaderdOptions{})
}

// startIdreaderdWith is startIdreaderd with o's readers, profile, hold,
// log level and environment; it returns once /healthz reports every
// reader up.
func startIdreaderdWith(t *testing.T, info rig.Info, o idreaderdOptions) *idreaderd {
	t.Helper()
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
	names, devices, addrs := []string{"counter"}, info.Readers[:1], info.VPCD[:1]
	if n := o.readers; n != 0 {
		if n == allReaders {
			n = len(info.Readers)
		}
		if n > len(info.Readers) {
			t.Fatalf("rig: %d readers wanted, the rig has %d (IDREADER_RIG_ENTRIES)", n, len(info.Readers))
		}
		names, devices, addrs = nil, info.Readers[:n], info.VPCD[:n]
		for k := range n {
			names = append(names, "counter-"+strconv.Itoa(k))
		}
	}
	profile := cmp.Or(o.profile, "age-20")
	var readers strings.Builder
	for k, name := range names {
		// strconv.Quote gives a YAML double-quoted scalar for a reader name.
		readers.WriteString(`  - name: ` + name + `
    driver: pcsc
    device: ` + strconv.Quote(devices[k]) + `
    profile: ` + profile + `
    identity: counter
    outputs: [console]
`)
		if o.hold != "" {
			readers.WriteString("    timeouts: {hold: " + o.hold + "}\n")
		}
	}
	text := `readers:
` + readers.String() + `trust:
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
  level: ` + cmp.Or(o.logLevel, "info") + `
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
	t.Cleanup(func() { notify.Close() })
	d := &idreaderd{bin: bin, addr: addr, stderr: &syncbuf.Buffer{}, names: names, addrs: addrs}
	d.cmd = exec.Command(bin, "--config", conf)
	d.cmd.Env = append(append(os.Environ(), "NOTIFY_SOCKET="+sock), o.env...)
	d.cmd.Stdout, d.cmd.Stderr = o.stdout, d.stderr
	if o.stdout == nil {
		d.cmd.Stdout = &syncbuf.Buffer{}
	}
	started := time.Now()
	if err := d.cmd.Start(); err != nil {
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
	go func() { exited <- d.cmd.Wait() }()
	stopped := false
	d.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(15 * time.Second):
			d.cmd.Process.Kill()
			<-exited
			t.Error("idreaderd did not stop within 15 s of SIGTERM")
			return nil
		}
	}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("idreaderd stderr:\n%s", d.stderr.String())
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var h struct {
				Readers []struct {
					Up bool `json:"up"`
				} `json:"readers"`
			}
			derr := json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			up := 0
			for _, r := range h.Readers {
				if r.Up {
					up++
				}
			}
			if resp.StatusCode == http.StatusOK && derr == nil && up == len(names) {
				select {
				case d.ready = <-ready:
				case <-time.After(5 * time.Second):
					t.Fatal("idreaderd answers /healthz but sent no READY=1")
				}
				return d
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("idreaderd not healthy within 20 s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
