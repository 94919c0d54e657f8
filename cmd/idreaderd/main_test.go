package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/syncbuf"

	"github.com/idreader/idreader/holder/credential"
)

// syncBuffer collects output written from several goroutines.
type syncBuffer = syncbuf.Buffer

const simConfig = `readers:
  - name: sim
    driver: simulated
    interval: 20ms
    profile: PROFILE
    outputs: [console]
    timeouts: {hold: 1ms}
outputs:
  console: {type: console}
http: {listen: "off"}
logging:
  audit: audit.jsonl
demo: true
`

func writeConfig(t *testing.T, path, profile string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Replace(simConfig, "PROFILE", profile, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// notifySocket listens where $NOTIFY_SOCKET points and collects datagrams.
func notifySocket(t *testing.T) *syncBuffer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "100000")
	got := &syncBuffer{}
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			got.Write(append(buf[:n:n], '\n'))
		}
	}()
	return got
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDaemonSimulated runs the daemon on a simulated reader: systemd
// notifications, taps in the audit file, a SIGHUP reload (good and bad),
// a clean stop, and no personal data in any log line or audit record.
func TestDaemonSimulated(t *testing.T) {
	notes := notifySocket(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "idreaderd.yaml")
	writeConfig(t, cfgPath, "age-21")
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	o, err := parseFlags([]string{"--config", cfgPath}, stderr)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(o, stdout, stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, hup) }()

	audit := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
		return string(b)
	}
	waitFor(t, "READY=1", func() bool { return strings.Contains(notes.String(), "READY=1") })
	waitFor(t, "two taps", func() bool { return strings.Count(audit(), `"profile":"age-21"`) >= 2 })
	if !strings.Contains(audit(), `"decision":"accept"`) || !strings.Contains(audit(), `"reasons":["age_not_met"]`) {
		t.Errorf("audit:\n%s", audit())
	}
	waitFor(t, "WATCHDOG=1", func() bool { return strings.Contains(notes.String(), "WATCHDOG=1") })

	// A bad file is refused, the old configuration stays.
	if err := os.WriteFile(cfgPath, []byte("readers: [{name: sim, driver: simulated, profile: age20}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.reload(); err == nil || !strings.Contains(err.Error(), `idreaderd.yaml:1: readers[0].profile: unknown profile "age20"`) {
		t.Errorf("bad reload: %v", err)
	}
	// The identity profile (names and portraits disclosed) from the next tap.
	writeConfig(t, cfgPath, "identity")
	hup <- os.Interrupt // any value: run reloads on receipt
	waitFor(t, "taps with the reloaded profile", func() bool { return strings.Count(audit(), `"profile":"identity"`) >= 2 })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(stopTimeout + time.Second):
		t.Fatal("no stop")
	}
	waitFor(t, "STOPPING=1", func() bool { return strings.Contains(notes.String(), "STOPPING=1") })
	if !strings.Contains(stdout.String(), "sim ACCEPT") || !strings.HasSuffix(stdout.String(), "sim OFF\n") {
		t.Errorf("console:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "configuration reloaded") {
		t.Errorf("log:\n%s", stderr.String())
	}

	portrait, err := credential.Portrait()
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(portrait)
	secrets := []string{"Robin", "Sample", "TEST0000001", "1990-04-15", b64[:40], b64[len(b64)/2 : len(b64)/2+40]}
	for name, text := range map[string]string{"log": stderr.String(), "audit": audit(), "console": stdout.String()} {
		for _, line := range strings.Split(text, "\n") {
			for _, s := range secrets {
				if strings.Contains(line, s) {
					t.Errorf("%s line carries %q: %s", name, s, line)
				}
			}
		}
	}
}

func TestFlags(t *testing.T) {
	var b bytes.Buffer
	if _, err := parseFlags(nil, &b); err == nil {
		t.Error("no --config nor --demo accepted")
	}
	if _, err := parseFlags([]string{"--demo", "extra"}, &b); err == nil {
		t.Error("extra argument accepted")
	}
	o, err := parseFlags([]string{"--demo", "--listen", "off"}, &b)
	if err != nil || !o.demo || o.listen != "off" {
		t.Errorf("%+v %v", o, err)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "idreaderd.yaml")
	writeConfig(t, path, "age-21")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--config", path, "--check-config"}, &out, &errb); err != nil || !strings.Contains(out.String(), "OK") {
		t.Errorf("check: %v %s", err, out.String())
	}
	writeConfig(t, path, "age20")
	if err := run(context.Background(), []string{"--config", path, "--check-config"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "idreaderd.yaml:5: readers[0].profile") {
		t.Errorf("bad config: %v", err)
	}
}

func TestNotifyWithoutSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	if err := sdNotify("READY=1"); err != nil {
		t.Error(err)
	}
	if watchdogInterval() != 0 {
		t.Error("watchdog without WATCHDOG_USEC")
	}
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "1")
	if os.Getpid() != 1 && watchdogInterval() != 0 {
		t.Error("watchdog for another pid")
	}
	t.Setenv("WATCHDOG_PID", "")
	if watchdogInterval() != 15*time.Second {
		t.Errorf("interval %s", watchdogInterval())
	}
}
