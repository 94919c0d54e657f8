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
	"syscall"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/rig"
)

// idreaderd is a built idreaderd running on the rig.
type idreaderd struct {
	cmd    *exec.Cmd
	addr   string        // its HTTP listener on loopback
	stderr *bytes.Buffer // its log
	// stop sends SIGTERM and waits for the exit; idempotent.
	stop func() error
	// ready is the time from exec to READY=1 on $NOTIFY_SOCKET.
	ready time.Duration
}

// startIdreaderd builds and runs idreaderd, configured as an operator
// would (deploy/idreaderd.example.yaml trimmed to one PC/SC reader of the
// rig, console output, HTTP on loopback, an audit file), and returns once
// /healthz reports the reader up.
func startIdreaderd(t *testing.T, info rig.Info) *idreaderd {
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
	t.Cleanup(func() { notify.Close() })
	d := &idreaderd{addr: addr, stderr: &bytes.Buffer{}}
	d.cmd = exec.Command(bin, "--config", conf)
	d.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	d.cmd.Stdout, d.cmd.Stderr = &bytes.Buffer{}, d.stderr
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
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
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
