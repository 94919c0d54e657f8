//go:build blerig

package blerig

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// figures collects the measured tap times and MTUs; TestMain prints them.
var figures struct {
	sync.Mutex
	lines []string
}

func record(format string, args ...any) {
	figures.Lock()
	defer figures.Unlock()
	figures.lines = append(figures.lines, fmt.Sprintf(format, args...))
}

func TestMain(m *testing.M) {
	code := m.Run()
	figures.Lock()
	if len(figures.lines) > 0 {
		fmt.Println("=== ble rig figures (inside the VM; TCG-slowed when no KVM) ===")
		for _, l := range figures.lines {
			fmt.Println(l)
		}
	}
	figures.Unlock()
	os.Exit(code)
}

// requireRig skips the test outside the rig.
func requireRig(t *testing.T) {
	t.Helper()
	if os.Getenv("IDREADER_BLE_RIG") != "1" {
		t.Skip("not inside the BlueZ rig: run .ci/with-ble-rig .ci/ble-rig-tests")
	}
}

// outDir is where logs worth keeping go (the rig keeps it after the run).
func outDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("IDREADER_BLE_RIG_OUT")
	if d == "" {
		d = t.TempDir()
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	p := filepath.Join(d, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs a command to completion and returns its combined output.
func run(t *testing.T, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// mustRun is run that fails the test on error.
func mustRun(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	out, err := run(t, timeout, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// proc is a background command whose output is kept in a file.
type proc struct {
	cmd  *exec.Cmd
	out  string
	done chan struct{}
	err  error
}

func start(t *testing.T, logPath string, name string, args ...string) *proc {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{cmd: cmd, out: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// stop ends the process (SIGTERM, then SIGKILL after 5 s) and waits.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// wait waits for the process to exit by itself.
func (p *proc) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v; output:\n%s", p.cmd.Path, timeout, p.output())
		return nil
	}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.out)
	return string(b)
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// newPKI writes a test PKI (idreader pki) for country.
func newPKI(t *testing.T, country string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki-"+country)
	mustRun(t, 120*time.Second, "idreader", "pki", "--out", dir, "--country", country)
	return dir
}

// power switches a controller on or off with btmgmt (the mgmt API).
func power(t *testing.T, index int, on bool) {
	t.Helper()
	state := "off"
	if on {
		state = "on"
	}
	mustRun(t, 20*time.Second, "btmgmt", "--index", fmt.Sprint(index), "power", state)
}

// powered reports the Powered property of an adapter as bluetoothd sees it.
func powered(adapter string) bool {
	out, err := exec.Command("busctl", "--system", "get-property", "org.bluez", "/org/bluez/"+adapter, "org.bluez.Adapter1", "Powered").Output()
	return err == nil && strings.TrimSpace(string(out)) == "b true"
}

// simLine returns the first line of the sim's output with prefix, or "".
func simLine(out, prefix string) string {
	sc := bufio.NewScanner(bytes.NewReader([]byte(out)))
	for sc.Scan() {
		if strings.Contains(sc.Text(), prefix) {
			return sc.Text()
		}
	}
	return ""
}

// resetRadios makes each test start from the same state: hci0 and hci1
// powered, no device known to either (RemoveDevice also disconnects), so a
// link or cached advertisement left by an earlier test cannot stand in for
// this one's.
func resetRadios(t *testing.T) {
	t.Helper()
	conn, err := dbus.ConnectSystemBus()
	if err != nil {
		t.Fatalf("system bus: %v", err)
	}
	defer conn.Close()
	objs := map[dbus.ObjectPath]map[string]map[string]dbus.Variant{}
	if err := conn.Object("org.bluez", "/").Call("org.freedesktop.DBus.ObjectManager.GetManagedObjects", 0).Store(&objs); err != nil {
		t.Fatalf("listing bluez objects: %v", err)
	}
	for path, ifaces := range objs {
		dev, ok := ifaces["org.bluez.Device1"]
		if !ok {
			continue
		}
		adapter, _ := dev["Adapter"].Value().(dbus.ObjectPath)
		if err := conn.Object("org.bluez", adapter).Call("org.bluez.Adapter1.RemoveDevice", 0, path).Err; err != nil {
			t.Logf("removing %s: %v", path, err)
		}
	}
	for i, a := range []string{"hci0", "hci1"} {
		if !powered(a) {
			power(t, i, true)
		}
	}
}

// connectedDevices lists the devices bluetoothd reports connected, as
// "adapter→device" strings.
func connectedDevices(t *testing.T) []string {
	t.Helper()
	conn, err := dbus.ConnectSystemBus()
	if err != nil {
		t.Fatalf("system bus: %v", err)
	}
	defer conn.Close()
	objs := map[dbus.ObjectPath]map[string]map[string]dbus.Variant{}
	if err := conn.Object("org.bluez", "/").Call("org.freedesktop.DBus.ObjectManager.GetManagedObjects", 0).Store(&objs); err != nil {
		t.Fatalf("listing bluez objects: %v", err)
	}
	var out []string
	for path, ifaces := range objs {
		if dev, ok := ifaces["org.bluez.Device1"]; ok {
			if c, _ := dev["Connected"].Value().(bool); c {
				out = append(out, string(path))
			}
		}
	}
	return out
}
