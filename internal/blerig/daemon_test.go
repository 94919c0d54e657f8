//go:build blerig

package blerig

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// daemonRig is idreaderd running with ble: {adapter: hci0}: a qr reader
// ("kiosk", reading QR codes from a FIFO the test writes to) and a
// simulated NFC reader ("counter", tapped by the simulated wallet every
// second), with an audit file to count decisions.
type daemonRig struct {
	t     *testing.T
	dir   string
	pki   string
	sock  string
	audit string
	fifo  *os.File
	d     *proc
}

func startDaemon(t *testing.T) *daemonRig {
	t.Helper()
	dir := outDir(t)
	r := &daemonRig{t: t, dir: dir, pki: newPKI(t, "US"), audit: filepath.Join(dir, "audit.jsonl")}
	fifo := filepath.Join(t.TempDir(), "scanner")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Held open read-write so the daemon's scanner never sees the end of
	// its input between codes.
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r.fifo = f
	// The API on a unix socket: the VM has no loopback interface up (no
	// iproute2 in the image).
	r.sock = filepath.Join(t.TempDir(), "api.sock")
	cfg := fmt.Sprintf(`readers:
  - name: counter
    driver: simulated
    interval: 1s
    profile: age-21
  - name: kiosk
    driver: qr
    device: %s
    profile: age-21
ble:
  adapter: hci0
  connect_timeout: 60s
trust:
  - %s
http:
  listen: "off"
  unix: %s
logging:
  level: debug
  audit: %s
`, fifo, filepath.Join(r.pki, "iaca.pem"), r.sock, r.audit)
	path := filepath.Join(dir, "idreaderd.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r.d = start(t, filepath.Join(dir, "idreaderd.log"), "idreaderd", "--config", path)
	var last string
	ok := false
	for end := time.Now().Add(120 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		h, code, err := r.health()
		last = fmt.Sprintf("%d %+v %v", code, h, err)
		if ok = err == nil && h.reader("kiosk").BLE == "ok" && h.reader("kiosk").Up; ok {
			break
		}
	}
	if !ok {
		t.Fatalf("idreaderd's /healthz never showed the kiosk up with its radio ok; last: %s\n%s", last, r.d.output())
	}
	return r
}

// healthz is the body of GET /healthz.
type healthz struct {
	Status  string `json:"status"`
	Readers []struct {
		Name string `json:"name"`
		Up   bool   `json:"up"`
		BLE  string `json:"ble"`
	} `json:"readers"`
}

type readerHealth struct {
	Up  bool
	BLE string
}

func (h healthz) reader(name string) readerHealth {
	for _, r := range h.Readers {
		if r.Name == name {
			return readerHealth{r.Up, r.BLE}
		}
	}
	return readerHealth{}
}

func (r *daemonRig) health() (healthz, int, error) {
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", r.sock)
		}}}
	resp, err := c.Get("http://idreaderd/healthz")
	if err != nil {
		return healthz{}, 0, err
	}
	defer resp.Body.Close()
	var h healthz
	err = json.NewDecoder(resp.Body).Decode(&h)
	return h, resp.StatusCode, err
}

// auditRecord is the part of an audit line the test checks.
type auditRecord struct {
	Reader     string   `json:"reader"`
	Decision   string   `json:"decision"`
	Reasons    []string `json:"reasons"`
	Engagement string   `json:"engagement"`
	Transport  string   `json:"transport"`
	TotalMS    float64  `json:"totalMs"`
}

func (r *daemonRig) records(reader string) []auditRecord {
	f, err := os.Open(r.audit)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []auditRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a auditRecord
		if json.Unmarshal(sc.Bytes(), &a) == nil && a.Reader == reader {
			out = append(out, a)
		}
	}
	return out
}

// qrTap shows a QR code from a wallet on hci1 in mode, feeds it to the
// kiosk's scanner and returns the kiosk's decision.
func (r *daemonRig) qrTap(mode string) auditRecord {
	t := r.t
	t.Helper()
	before := len(r.records("kiosk"))
	qr := filepath.Join(t.TempDir(), "qr.txt")
	sim := start(t, filepath.Join(r.dir, "sim-"+mode+"-"+strconv.Itoa(before)+".log"), "idreader", "sim",
		"--ble-adapter", "hci1", "--engagement", "qr", "--qr-out", qr, "--ble-mode", mode,
		"--pki", r.pki, "--taps", "1", "--tap-timeout", "60s")
	waitFor(t, 20*time.Second, "the QR code file", func() bool { _, err := os.Stat(qr); return err == nil })
	code, err := os.ReadFile(qr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.fifo.Write(code); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 90*time.Second, "the kiosk's decision", func() bool { return len(r.records("kiosk")) > before })
	sim.wait(t, 30*time.Second)
	// Both ends closed the session: the link must go down, or the next
	// wallet could not reach the reader (nor a phone after a real tap).
	var left []string
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if left = connectedDevices(t); len(left) == 0 {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("links still up 15 s after the tap: %v", left)
	}
	rec := r.records("kiosk")[before]
	if rec.Decision != "accept" || rec.Engagement != "qr" {
		t.Fatalf("kiosk decided %+v; want an accept after a qr engagement\nsim:\n%s\ndaemon:\n%s", rec, sim.output(), r.d.output())
	}
	return rec
}

// TestDaemonBLE runs idreaderd with ble: {adapter: hci0}: it decides QR
// taps over real BlueZ in both modes; when hci0 is powered off, and when
// the controllers are removed altogether, /healthz shows the kiosk's radio
// lost (the kiosk down, the service still ok), the simulated NFC reader
// keeps deciding taps, and the daemon picks the adapter up again by itself
// and decides the next QR tap.
func TestDaemonBLE(t *testing.T) {
	requireRig(t)
	resetRadios(t)
	r := startDaemon(t)
	for _, mode := range []string{"central-client", "peripheral-server"} {
		rec := r.qrTap(mode)
		want := map[string]string{"central-client": "ble-central", "peripheral-server": "ble-peripheral"}[mode]
		if rec.Transport != want {
			t.Errorf("%s: transport %q, want %q", mode, rec.Transport, want)
		}
		t.Logf("daemon, %s: decided in %.0f ms", mode, rec.TotalMS)
		record("%-44s tap  %5.0f ms  (daemon audit totalMs)", "TestDaemonBLE/"+mode, rec.TotalMS)
	}

	t.Run("power-off", func(t *testing.T) {
		off := time.Now()
		power(t, 0, false)
		lost := r.waitLost(t)
		t.Logf("power off noticed after %v: %q", time.Since(off).Round(time.Millisecond), lost)
		// The daemon powers the adapter it is configured with on again.
		waitFor(t, 30*time.Second, "the kiosk's radio back", func() bool {
			h, _, err := r.health()
			return err == nil && h.reader("kiosk").BLE == "ok" && h.reader("kiosk").Up
		})
		t.Logf("adapter back %v after the power off", time.Since(off).Round(time.Millisecond))
		r.qrTap("central-client")
	})

	t.Run("controller-removed", func(t *testing.T) {
		removed := time.Now()
		restart := removeControllers(t)
		lost := r.waitLost(t)
		t.Logf("controller removal noticed after %v: %q", time.Since(removed).Round(time.Millisecond), lost)
		// NFC goes on without the radio.
		n := len(r.records("counter"))
		waitFor(t, 30*time.Second, "two NFC taps on the counter without the radio", func() bool { return len(r.records("counter")) >= n+2 })
		if h, code, err := r.health(); err != nil || code != http.StatusOK || !h.reader("counter").Up || h.reader("kiosk").BLE == "ok" {
			t.Fatalf("/healthz while the controller is gone: %d %+v %v", code, h, err)
		}
		restart()
		waitFor(t, 30*time.Second, "the kiosk's radio back", func() bool {
			h, _, err := r.health()
			return err == nil && h.reader("kiosk").BLE == "ok" && h.reader("kiosk").Up
		})
		t.Logf("adapter back %v after the removal", time.Since(removed).Round(time.Millisecond))
		r.qrTap("peripheral-server")
	})
}

// waitLost waits until /healthz reports the kiosk's radio lost while the
// service stays up (the NFC reader), and returns the reason shown.
func (r *daemonRig) waitLost(t *testing.T) string {
	t.Helper()
	var why string
	waitFor(t, 10*time.Second, "/healthz reporting the lost adapter", func() bool {
		h, code, err := r.health()
		if err != nil {
			return false
		}
		k := h.reader("kiosk")
		if k.BLE == "ok" || k.BLE == "" {
			return false
		}
		why = k.BLE
		if code != http.StatusOK || h.Status != "ok" || !h.reader("counter").Up || k.Up {
			t.Fatalf("/healthz with the radio lost: %d %+v; want 200, counter up, kiosk down", code, h)
		}
		return true
	})
	if !strings.Contains(why, "hci0") {
		t.Errorf("the reason %q does not name the adapter", why)
	}
	return why
}

// removeControllers stops btvirt, which removes hci0 and hci1, and returns
// the function that starts a new one.
func removeControllers(t *testing.T) (restart func()) {
	t.Helper()
	pid, err := os.ReadFile("/run/btvirt.pid")
	if err != nil {
		t.Fatalf("btvirt pid: %v", err)
	}
	p, err := strconv.Atoi(strings.TrimSpace(string(pid)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(p, syscall.SIGTERM); err != nil {
		t.Fatalf("stopping btvirt: %v", err)
	}
	waitFor(t, 10*time.Second, "hci0 and hci1 removed", func() bool {
		_, e0 := os.Stat("/sys/class/bluetooth/hci0")
		_, e1 := os.Stat("/sys/class/bluetooth/hci1")
		return os.IsNotExist(e0) && os.IsNotExist(e1)
	})
	return func() {
		// rig-btvirt-up (written by .ci/with-ble-rig) starts a new btvirt
		// and powers both controllers once bluetoothd lists them.
		mustRun(t, 120*time.Second, "rig-btvirt-up")
	}
}
