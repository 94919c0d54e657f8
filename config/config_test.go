package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/config"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/mdoc"
)

// setup writes a test PKI to dir/pki, as `idreader pki` does.
func setup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p, err := pki.New(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Save(filepath.Join(dir, "pki")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func write(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, "idreaderd.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExample loads deploy/idreaderd.example.yaml next to a test PKI.
func TestExample(t *testing.T) {
	dir := setup(t)
	example, err := os.ReadFile("../deploy/idreaderd.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(write(t, dir, string(example)))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Readers) != 1 || c.Readers[0].Name != "counter-1" || c.Readers[0].Device != "first" ||
		c.Readers[0].Timeouts.Exchange.D() != 30*time.Second || c.Readers[0].Timeouts.Hold.D() != 1500*time.Millisecond {
		t.Errorf("readers %+v", c.Readers)
	}
	if r := c.Readers[0]; r.BLE.Adapter != "hci0" || r.BLE.ConnectTimeout.D() != 15*time.Second || len(r.TransportList()) != 3 || !r.UsesBLE() {
		t.Errorf("reader BLE %+v transports %v", r.BLE, r.Transports)
	}
	if c.Outputs["lights"].Pins.Relay != "GPIO23" || len(c.Outputs["lights"].Timings.RejectBeep) != 5 || c.Outputs["lights"].Timings.RelayPulse.D() != 500*time.Millisecond {
		t.Errorf("outputs %+v", c.Outputs)
	}
	if c.HTTP.ResultRetention.D() != 2*time.Minute {
		t.Errorf("result_retention %v, want the example's 2m", c.HTTP.ResultRetention.D())
	}
	if c.HTTP.Listen != "127.0.0.1:8080" || c.HTTP.DisplayClearAfter.D() != 8*time.Second || c.Logging.Audit == "" {
		t.Errorf("http %+v logging %+v", c.HTTP, c.Logging)
	}
	s, err := c.Settings()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Trust.Certificates()) != 1 || s.Identities["counter"] == nil || s.ReaderProfiles["counter-1"] != "age-20" {
		t.Errorf("settings %+v", s)
	}
	bar := s.Profiles["bar-18"]
	if bar == nil || len(bar.Documents) != 2 || bar.Documents[1].DocType != mdoc.DocTypeMyNumberCard || bar.ReaderIdentity != "counter" {
		t.Fatalf("bar-18 %+v", bar)
	}
	for _, n := range []string{"age-20", "age-21", "identity"} {
		if s.Profiles[n] == nil {
			t.Errorf("built-in %s missing", n)
		}
	}
}

const minimal = `readers:
  - name: a
    profile: age-20
trust: [pki/iaca.pem]
`

func TestMinimalDefaults(t *testing.T) {
	dir := setup(t)
	c, err := config.Load(write(t, dir, minimal))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Readers[0]
	if r.Driver != "pcsc" || r.Device != "first" || r.Limits != "extended" || c.HTTP.Listen != config.DefaultListen || c.Logging.Level != "info" {
		t.Errorf("defaults %+v %+v", r, c)
	}
}

func TestErrors(t *testing.T) {
	dir := setup(t)
	cases := []struct {
		name, text string
		want       []string
	}{
		{"unknown profile", `
readers:
  - name: a
    profile: age20
trust: [pki/iaca.pem]
`, []string{`idreaderd.yaml:4: readers[0].profile: unknown profile "age20"`}},
		{"negative result retention", `
readers:
  - name: a
    profile: age-20
trust: [pki/iaca.pem]
http:
  result_retention: -5m
`, []string{`idreaderd.yaml:7: http.result_retention: negative duration "-5m"`}},
		{"unknown key", `
readers:
  - name: a
    profile: age-20
    colour: red
trust: [pki/iaca.pem]
`, []string{`idreaderd.yaml:5: readers[0].colour: unknown key`}},
		{"bad duration", `
readers:
  - name: a
    profile: age-20
    timeouts:
      exchange: 30 seconds
trust: [pki/iaca.pem]
`, []string{`idreaderd.yaml:6: readers[0].timeouts.exchange: bad duration "30 seconds"`}},
		{"seconds and negative", `
readers:
  - name: a
    profile: age-20
    timeouts: {exchange: 2.5, removal: -1s}
trust: [pki/iaca.pem]
`, []string{`idreaderd.yaml:5: readers[0].timeouts.removal: negative duration`}},
		{"missing files", `
readers:
  - name: a
    profile: age-20
    identity: shop
trust:
  - pki/iaca.pem
  - nowhere/iaca.pem
identities:
  shop:
    cert: pki/reader.pem
    key: pki/missing_key.pem
`, []string{`idreaderd.yaml:8: trust[1]: stat `, `idreaderd.yaml:12: identities.shop.key: stat `}},
		{"references", `
readers:
  - name: a
    profile: mine
    identity: ghost
    outputs: [leds]
  - name: a
    driver: nfc
    limits: medium
    profile: age-21
trust: [pki/iaca.pem]
profiles:
  mine:
    documents:
      - doctype: mdl
        elements: {org.iso.18013.5.1: [age_over_18]}
        retain: [portrait]
    require_true: [age_over_21]
    identity: nobody
outputs:
  leds2: {type: lamp}
`, []string{
			`idreaderd.yaml:5: readers[0].identity: unknown identity "ghost"`,
			`idreaderd.yaml:6: readers[0].outputs[0]: unknown output "leds"`,
			`idreaderd.yaml:7: readers[1].name: reader name "a" used twice`,
			`idreaderd.yaml:8: readers[1].driver: unknown driver "nfc"`,
			`idreaderd.yaml:9: readers[1].limits: unknown limits "medium"`,
			`idreaderd.yaml:17: profiles.mine.documents[0].retain: "portrait" is not among the requested elements`,
			`idreaderd.yaml:13: profiles.mine: profile "mine" requires age_over_21 true but never requests it`,
			`idreaderd.yaml:19: profiles.mine.identity: unknown identity "nobody"`,
			`idreaderd.yaml:21: outputs.leds2.type: unknown output type "lamp"`,
		}},
		{"types", `
readers: {name: a}
trust: pki/iaca.pem
demo: yes please
`, []string{
			`idreaderd.yaml:2: readers: want a list, got a mapping`,
			`idreaderd.yaml:3: trust: want a list of folders or a mapping, got "pki/iaca.pem"`,
			`idreaderd.yaml:4: demo: want true or false, got "yes please"`,
		}},
		{"syntax", "readers:\n  - name: a\n   profile: x\n", []string{`idreaderd.yaml:1: did not find expected`}},
		{"http and logging", `
readers: [{name: a, profile: age-20}]
trust: [pki/iaca.pem]
http:
  listen: 0.0.0.0:8080
logging:
  level: loud
`, []string{
			`idreaderd.yaml:5: http.listen: "0.0.0.0:8080" is not a loopback address: set http.token`,
			`idreaderd.yaml:7: logging.level: unknown level "loud"`,
		}},
		{"transports and radios", `
readers:
  - name: a
    profile: age-20
    transports: [nfc, bluetooth, nfc, ble-central]
  - name: q
    driver: qr
    profile: age-20
    transports: [nfc]
  - name: s
    driver: simulated
    profile: age-20
    ble: {adapter: hci0}
  - name: p
    profile: age-20
    ble:
      adapter: simulated
trust: [pki/iaca.pem]
`, []string{
			`idreaderd.yaml:5: readers[0].transports[1]: unknown transport "bluetooth"`,
			`idreaderd.yaml:5: readers[0].transports[2]: transport "nfc" listed twice`,
			`idreaderd.yaml:5: readers[0].transports[3]: ble-central needs a BLE radio`,
			`idreaderd.yaml:6: readers[1]: device missing`,
			`idreaderd.yaml:6: readers[1]: a qr reader needs a BLE radio`,
			`idreaderd.yaml:9: readers[1].transports[0]: a qr reader retrieves over BLE only`,
			`idreaderd.yaml:13: readers[2].ble.adapter: a simulated reader's wallets only reach the simulated radio`,
			`idreaderd.yaml:17: readers[3].ble.adapter: the simulated radio only reaches a simulated reader's wallets`,
		}},
		{"top-level radio", `
readers: [{name: a, profile: age-20}]
trust: [pki/iaca.pem]
ble:
  adapter: simulated
`, []string{`idreaderd.yaml:5: ble.adapter: the simulated radio is only for simulated readers`}},
		{"pn532", `
readers:
  - name: a
    driver: pn532
    profile: age-20
  - name: b
    driver: pn532
    bus: usb:/dev/x
    profile: age-20
  - name: c
    bus: i2c:/dev/i2c-1
    profile: age-20
trust: [pki/iaca.pem]
`, []string{
			`idreaderd.yaml:3: readers[0]: bus missing`,
			`idreaderd.yaml:8: readers[1].bus: bus "usb:/dev/x": unknown kind "usb"`,
			`idreaderd.yaml:10: readers[2]: bus, reset and irq are settings of a pn532 reader`,
		}},
		{"no readers no trust", `http: {listen: "[::1]:9000"}`, []string{
			`readers: no readers configured`, `trust: no IACA trust anchors`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(write(t, dir, tc.text))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				found := false
				for _, line := range strings.Split(msg, "\n") {
					rel := strings.TrimPrefix(line, dir+string(filepath.Separator))
					found = found || strings.HasPrefix(rel, w) || (strings.Contains(rel, w) && !strings.HasPrefix(w, "idreaderd"))
				}
				if !found {
					t.Errorf("want %q in:\n%s", w, msg)
				}
			}
		})
	}
}

func TestSettingsErrors(t *testing.T) {
	dir := setup(t)
	// The key does not belong to the certificate.
	text := minimal + "identities:\n  shop:\n    cert: pki/reader.pem\n    key: pki/ds_key.pem\n"
	c, err := config.Load(write(t, dir, text))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Settings(); err == nil || !strings.Contains(err.Error(), "idreaderd.yaml:6: identities.shop: ") {
		t.Errorf("mismatched key: %v", err)
	}
	// A trust file that is not a certificate.
	if err := os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = config.Load(write(t, dir, strings.Replace(minimal, "pki/iaca.pem", "junk.pem", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Settings(); err == nil || !strings.Contains(err.Error(), "idreaderd.yaml:4: trust[0]: ") {
		t.Errorf("junk trust: %v", err)
	}
}

func TestOverrideBuiltin(t *testing.T) {
	dir := setup(t)
	text := minimal + `profiles:
  age-20:
    documents:
      - doctype: org.iso.18013.5.1.mDL
        elements: {org.iso.18013.5.1: [age_over_20]}
        retain: [age_over_20]
    require_true: [age_over_20]
`
	c, err := config.Load(write(t, dir, text))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Settings()
	if err != nil {
		t.Fatal(err)
	}
	p := s.Profiles["age-20"]
	if len(p.Documents) != 1 || !p.Documents[0].Elements[0].IntentToRetain || p.RequirePortrait {
		t.Errorf("override %+v", p)
	}
}

func TestDemo(t *testing.T) {
	c := config.Demo()
	if len(c.Readers) != 1 || c.Readers[0].Driver != "simulated" || c.Outputs["console"].Type != "console" {
		t.Fatalf("demo %+v", c)
	}
	if _, err := c.Settings(); err != nil {
		t.Fatal(err)
	}
}

// TestTransportDefaults: nfc alone without a radio; all three with the
// top-level radio, which readers inherit unless they name their own; a qr
// reader retrieves over BLE only; simulated readers take only their own
// simulated radio.
func TestTransportDefaults(t *testing.T) {
	dir := setup(t)
	c, err := config.Load(write(t, dir, `
readers:
  - name: plain
    profile: age-20
  - name: second-radio
    profile: age-20
    ble: {adapter: hci1}
  - name: nfc-only
    profile: age-20
    transports: [nfc]
  - name: apple-first
    profile: age-20
    transports: [ble-central, nfc]
  - name: scanner
    driver: qr
    device: /dev/ttyACM0
    profile: age-20
  - name: sim
    driver: simulated
    profile: age-20
  - name: sim-ble
    driver: simulated
    profile: age-20
    ble: {adapter: simulated}
ble:
  adapter: hci0
  connect_timeout: 20s
trust: [pki/iaca.pem]
`))
	if err != nil {
		t.Fatal(err)
	}
	all := "nfc ble-central ble-peripheral"
	want := map[string]struct {
		adapter, transports string
		ble                 bool
	}{
		"plain":        {"hci0", all, true},
		"second-radio": {"hci1", all, true},
		"nfc-only":     {"hci0", "nfc", false},
		"apple-first":  {"hci0", "ble-central nfc", true},
		"scanner":      {"hci0", "ble-central ble-peripheral", true},
		"sim":          {"", "nfc", false},
		"sim-ble":      {"simulated", all, true},
	}
	for _, r := range c.Readers {
		w := want[r.Name]
		if r.BLE.Adapter != w.adapter || strings.Join(r.Transports, " ") != w.transports || r.UsesBLE() != w.ble {
			t.Errorf("%s: adapter %q transports %v uses BLE %v, want %+v", r.Name, r.BLE.Adapter, r.Transports, r.UsesBLE(), w)
		}
		if len(r.TransportList()) != len(r.Transports) {
			t.Errorf("%s: TransportList %v", r.Name, r.TransportList())
		}
	}
	if c.Readers[0].BLE.ConnectTimeout.D() != 20*time.Second {
		t.Errorf("inherited connect_timeout %v", c.Readers[0].BLE.ConnectTimeout.D())
	}

	// Without a radio: nfc alone.
	c, err = config.Load(write(t, dir, minimal))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Readers[0]; strings.Join(r.Transports, " ") != "nfc" || r.UsesBLE() {
		t.Errorf("no radio: %+v", r)
	}
}

// TestPN532: a pn532 reader takes a bus and optional reset and irq pins,
// and carries short APDUs unless told otherwise.
func TestPN532(t *testing.T) {
	dir := setup(t)
	c, err := config.Load(write(t, dir, `
readers:
  - name: kiosk
    driver: pn532
    bus: spi:/dev/spidev0.0
    reset: GPIO20
    irq: GPIO16
    profile: age-20
trust: [pki/iaca.pem]
`))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Readers[0]
	if r.Bus != "spi:/dev/spidev0.0" || r.Reset != "GPIO20" || r.IRQ != "GPIO16" || r.Limits != config.LimitsShort {
		t.Fatalf("%+v", r)
	}
}
