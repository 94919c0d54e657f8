package config

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/identity"
	"github.com/idreader/idreader/internal/keyfile"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/policy"
	"github.com/idreader/idreader/reader/pn532"
	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// Defaults.
const (
	DefaultListen            = "127.0.0.1:8080"
	DefaultDisplayClearAfter = Duration(8e9)
	DefaultResultRetention   = Duration(120e9)
	DefaultLogLevel          = "info"
	DriverPCSC               = "pcsc"
	DriverSimulated          = "simulated"
	DriverQR                 = "qr"
	// DriverPN532 is an NXP PN532 on the host's I2C, SPI or UART (package
	// reader/pn532), without pcscd.
	DriverPN532 = "pn532"
	// AdapterSimulated is the BLE adapter name of the in-memory link
	// between a simulated reader and its simulated wallets (package
	// ble/memlink): BLE without a radio, for demonstrations and tests.
	AdapterSimulated = "simulated"
	// DeviceStdin is the device of a QR reader that reads standard input
	// (a keyboard-wedge scanner typing into the daemon's terminal).
	DeviceStdin    = "-"
	LimitsExtended = "extended"
	LimitsShort    = "short"
	OutputGPIO     = "gpio"
	OutputConsole  = "console"
	DeviceFirst    = "first"
)

// Config is the whole configuration file.
type Config struct {
	// Readers are the NFC readers, one loop each.
	Readers []Reader `yaml:"readers"`
	// Profiles add to or replace the built-in acceptance profiles
	// (age-20, age-21, identity) by name.
	Profiles map[string]Profile `yaml:"profiles"`
	// Trust is where the IACA anchors and the revocation data come from:
	// folders, and the sources the daemon refreshes (see [Trust]). The
	// list form `trust: [a, b]` is folders only.
	Trust Trust `yaml:"trust"`
	// Identities are reader-authentication certificates and keys by name.
	Identities map[string]Identity `yaml:"identities"`
	// Outputs are indicator, buzzer, relay and console outputs by name.
	Outputs map[string]Output `yaml:"outputs"`
	// BLE is the Bluetooth LE radio of the readers that name none.
	BLE     BLE     `yaml:"ble"`
	HTTP    HTTP    `yaml:"http"`
	Logging Logging `yaml:"logging"`
	// Demo adds a simulated reader with the simulated wallet when no
	// reader is configured, and trusts the demo issuers.
	Demo bool `yaml:"demo"`

	// Path is the file the configuration came from.
	Path  string         `yaml:"-"`
	lines map[string]int `yaml:"-"`
}

// Reader is one NFC reader or QR scanner.
type Reader struct {
	// Name labels the reader in events, checks and the API.
	Name string `yaml:"name"`
	// Driver is pcsc (the default), simulated, or qr for a QR code scanner
	// (QR engagement, ISO/IEC 18013-5 clause 8.2.2.3, then BLE).
	Driver string `yaml:"driver"`
	// Device is the PC/SC reader name, or "first" (the default) for the
	// first reader pcscd lists; for a qr reader the scanner's tty
	// (/dev/ttyACM0) or "-" for standard input.
	Device string `yaml:"device"`
	// Bus is where a pn532 reader's chip hangs: i2c:/dev/i2c-1,
	// spi:/dev/spidev0.0 or uart:/dev/ttyAMA0.
	Bus string `yaml:"bus"`
	// Reset and IRQ name the GPIO pins wired to a pn532's RSTPDN and
	// P70_IRQ lines (e.g. GPIO20, GPIO16); both optional.
	Reset string `yaml:"reset"`
	IRQ   string `yaml:"irq"`
	// Transports is the preference order of the data retrieval methods
	// (nfc, ble-central, ble-peripheral) when the wallet offers several;
	// after loading it is never empty: by default nfc alone without a BLE
	// radio, all three with one (a qr reader: ble-central, ble-peripheral).
	Transports []string `yaml:"transports"`
	// BLE is the reader's Bluetooth LE radio; after loading it holds the
	// top-level ble section when the reader names no adapter (simulated
	// readers only take adapter: simulated, and only from their own ble).
	BLE BLE `yaml:"ble"`
	// Limits is extended (the default) or short: whether the reader carries
	// extended-length APDUs (ISO/IEC 7816-4 clause 5.1).
	Limits string `yaml:"limits"`
	// Profile is the profile read with when no check is armed.
	Profile string `yaml:"profile"`
	// Identity is the reader identity used when the profile names none.
	Identity string `yaml:"identity"`
	// Outputs name entries of the outputs section.
	Outputs []string `yaml:"outputs"`
	// Timeouts bound the steps of a tap.
	Timeouts Timeouts `yaml:"timeouts"`
	// Interval is the time between taps of the simulated wallet.
	Interval Duration `yaml:"interval"`
}

// BLE is a Bluetooth LE radio for data retrieval (ISO/IEC 18013-5 clause
// 8.3.3.1.1).
type BLE struct {
	// Adapter is the BlueZ adapter name (hci0), or "simulated" for the
	// in-memory link to a simulated reader's wallets; empty: no radio.
	Adapter string `yaml:"adapter"`
	// ConnectTimeout bounds the BLE connection set-up; 0 means 15 s.
	ConnectTimeout Duration `yaml:"connect_timeout"`
}

// TransportList returns Transports as terminal transports (valid after
// Load).
func (r Reader) TransportList() []terminal.Transport {
	out := make([]terminal.Transport, 0, len(r.Transports))
	for _, s := range r.Transports {
		if t, err := terminal.ParseTransport(s); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// UsesBLE reports whether the reader retrieves over BLE: it has a radio and
// a BLE transport in its list.
func (r Reader) UsesBLE() bool {
	return r.BLE.Adapter != "" && slices.ContainsFunc(r.TransportList(), func(t terminal.Transport) bool { return t != terminal.TransportNFC })
}

// Timeouts of the reader loop; zero takes the daemon's defaults.
type Timeouts struct {
	Engagement Duration `yaml:"engagement"`
	Exchange   Duration `yaml:"exchange"`
	Tap        Duration `yaml:"tap"`
	Removal    Duration `yaml:"removal"`
	Hold       Duration `yaml:"hold"`
}

// Profile is an acceptance profile (see policy.Profile).
type Profile struct {
	Documents       []Document `yaml:"documents"`
	RequirePresent  []string   `yaml:"require_present"`
	RequireTrue     []string   `yaml:"require_true"`
	NotExpired      bool       `yaml:"not_expired"`
	IssuerCountries []string   `yaml:"issuer_countries"`
	RequirePortrait bool       `yaml:"require_portrait"`
	Display         Display    `yaml:"display"`
	Identity        string     `yaml:"identity"`
	// AllowIndividualNumber lets the profile request the Japanese
	// Individual Number (individual_number, individual_number_unicode).
	// Japan's My Number Act restricts collecting it to the procedures it
	// lists; without this setting such a profile is refused at load.
	AllowIndividualNumber bool `yaml:"allow_individual_number"`
	// Revocation is hard or soft (the default): what to do when a
	// document's revocation state is unknown (see policy.Profile).
	Revocation string `yaml:"revocation"`
}

// Document is one accepted doc type and what to request of it.
type Document struct {
	// DocType is a doc type, or mdl / mnc for the mDL and the My Number card.
	DocType string `yaml:"doctype"`
	// Elements maps a name space to element identifiers.
	Elements map[string][]string `yaml:"elements"`
	// Retain lists the identifiers requested with IntentToRetain true.
	Retain []string `yaml:"retain"`
}

// Display is what the kiosk display may show.
type Display struct {
	Portrait bool `yaml:"portrait"`
	Name     bool `yaml:"name"`
}

// Identity is a reader-authentication certificate chain (PEM, leaf first)
// and its private key (PEM), e.g. reader.pem and reader_key.pem written by
// `idreader pki`.
type Identity struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Output is one output of a reader.
type Output struct {
	// Type is gpio or console.
	Type string `yaml:"type"`
	// Pins name the GPIO lines (periph names such as GPIO17); empty roles
	// are not fitted.
	Pins Pins `yaml:"pins"`
	// ActiveLow lists the roles (green, red, buzzer, relay) whose device is
	// on when the pin is low, as on many relay boards.
	ActiveLow []string `yaml:"active_low"`
	Timings   Timings  `yaml:"timings"`
	// Timestamps starts every console line with the time.
	Timestamps bool `yaml:"timestamps"`
}

// Pins of a GPIO output, by role.
type Pins struct {
	Green  string `yaml:"green"`
	Red    string `yaml:"red"`
	Buzzer string `yaml:"buzzer"`
	Relay  string `yaml:"relay"`
}

// Timings of a GPIO output. Patterns are lists of durations: on, off, on,
// ...; an absent pattern takes the default, an empty list [] means none.
type Timings struct {
	// Ready is what green does while idle: steady, blink or off.
	Ready        string     `yaml:"ready"`
	ReadyBlink   []Duration `yaml:"ready_blink"`
	ReadingBlink []Duration `yaml:"reading_blink"`
	// AcceptHold and RejectHold keep green or red on after a decision.
	AcceptHold Duration   `yaml:"accept_hold"`
	RejectHold Duration   `yaml:"reject_hold"`
	AcceptBeep []Duration `yaml:"accept_beep"`
	RejectBeep []Duration `yaml:"reject_beep"`
	// RelayPulse is how long the relay closes on accept.
	RelayPulse Duration   `yaml:"relay_pulse"`
	FaultBlink []Duration `yaml:"fault_blink"`
	FaultBeep  []Duration `yaml:"fault_beep"`
}

// HTTP configures the point-of-sale API and the kiosk display page.
type HTTP struct {
	// Listen is the TCP address; default 127.0.0.1:8080, "off" for none.
	Listen string `yaml:"listen"`
	// Unix is a Unix socket path for the API (optional).
	Unix string `yaml:"unix"`
	// Token is the bearer token; TokenFile reads it from a file. One is
	// required when Listen is not a loopback address.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// DisplayClearAfter clears the portrait and name from the display.
	DisplayClearAfter Duration `yaml:"display_clear_after"`
	// DisplayKey is the kiosk page's credential when a token is set: the
	// kiosk browser opens http://127.0.0.1:8080/?key=DISPLAY_KEY once
	// (the key is then kept in a cookie). Without it, and with a token,
	// only bearer-token clients see the page; without a token, any local
	// client does.
	DisplayKey string `yaml:"display_key"`
	// ResultRetention is how long GET /v1/results/last keeps the last
	// check's result (which holds the disclosed personal data).
	ResultRetention Duration `yaml:"result_retention"`
}

// Logging configures logs and the audit file.
type Logging struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Audit is the audit file (JSON lines, appended); empty means none.
	Audit string `yaml:"audit"`
}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a configuration; name is the file name used in
// errors, and relative file paths in it are resolved against its directory.
func Parse(name string, data []byte) (*Config, error) {
	c := &Config{Path: name}
	d := &decoder{file: name, lines: map[string]int{}}
	d.parseYAML(data, c)
	c.lines = d.lines
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	c.applyDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Demo returns the configuration of `idreaderd --demo`.
func Demo() *Config {
	c := &Config{Demo: true, Path: "(demo)", lines: map[string]int{}}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	if c.Demo && len(c.Readers) == 0 {
		c.Readers = []Reader{{Name: "demo", Driver: DriverSimulated, Profile: "age-21", Outputs: []string{"console"}}}
		if _, ok := c.Outputs["console"]; !ok {
			if c.Outputs == nil {
				c.Outputs = map[string]Output{}
			}
			c.Outputs["console"] = Output{Type: OutputConsole}
		}
	}
	for i := range c.Readers {
		r := &c.Readers[i]
		if r.Driver == "" {
			r.Driver = DriverPCSC
		}
		if r.Device == "" && r.Driver == DriverPCSC {
			r.Device = DeviceFirst
		}
		if r.Limits == "" {
			r.Limits = LimitsExtended
			if r.Driver == DriverPN532 {
				// Every short APDU fits one PN532 frame; extended
				// ones need MI chaining.
				r.Limits = LimitsShort
			}
		}
		if r.Name == "" {
			r.Name = fmt.Sprintf("reader%d", i)
		}
		if r.BLE.Adapter == "" && r.Driver != DriverSimulated {
			ct := r.BLE.ConnectTimeout
			r.BLE = c.BLE
			if ct != 0 {
				r.BLE.ConnectTimeout = ct
			}
		}
		if len(r.Transports) == 0 {
			switch {
			case r.Driver == DriverQR:
				r.Transports = []string{string(terminal.TransportBLECentralClient), string(terminal.TransportBLEPeripheralServer)}
			case r.BLE.Adapter != "":
				r.Transports = []string{string(terminal.TransportNFC), string(terminal.TransportBLECentralClient), string(terminal.TransportBLEPeripheralServer)}
			default:
				r.Transports = []string{string(terminal.TransportNFC)}
			}
		}
	}
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = DefaultListen
	}
	if c.HTTP.DisplayClearAfter == 0 {
		c.HTTP.DisplayClearAfter = DefaultDisplayClearAfter
	}
	if c.HTTP.ResultRetention == 0 {
		c.HTTP.ResultRetention = DefaultResultRetention
	}
	if c.Logging.Level == "" {
		c.Logging.Level = DefaultLogLevel
	}
}

// Line returns the line of the key at path ("readers[0].profile"), or of
// its nearest parent that has one; 0 if none.
func (c *Config) Line(path string) int {
	for path != "" {
		if l, ok := c.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

type errList struct {
	c    *Config
	errs []error
}

func (e *errList) add(path, format string, args ...any) {
	e.errs = append(e.errs, &lineError{file: e.c.Path, line: e.c.Line(path), path: path, msg: fmt.Sprintf(format, args...)})
}

// resolve makes a relative path relative to the configuration file.
func (c *Config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Path == "" || strings.HasPrefix(c.Path, "(") {
		return p
	}
	return filepath.Join(filepath.Dir(c.Path), p)
}

// ProfileNames returns the names of the built-in and configured profiles.
func (c *Config) ProfileNames() []string {
	set := map[string]bool{}
	for n := range policy.Builtin() {
		set[n] = true
	}
	for n := range c.Profiles {
		set[n] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func docTypeOf(s string) string {
	switch strings.ToLower(s) {
	case "mdl":
		return mdoc.DocTypeMDL
	case "mnc", "my-number-card", "mynumbercard":
		return mdoc.DocTypeMyNumberCard
	}
	return s
}

// policyProfile converts a configured profile.
func policyProfile(name string, p Profile) *policy.Profile {
	out := &policy.Profile{
		Name: name, RequirePresent: p.RequirePresent, RequireTrue: p.RequireTrue,
		NotExpired: p.NotExpired, IssuerCountries: p.IssuerCountries, RequirePortrait: p.RequirePortrait,
		Display: policy.Display{Portrait: p.Display.Portrait, Name: p.Display.Name}, ReaderIdentity: p.Identity,
		AllowIndividualNumber: p.AllowIndividualNumber,
		Revocation:            revocation.Mode(p.Revocation),
	}
	for _, d := range p.Documents {
		dr := policy.DocumentRequest{DocType: docTypeOf(d.DocType)}
		nss := make([]string, 0, len(d.Elements))
		for ns := range d.Elements {
			nss = append(nss, ns)
		}
		sort.Strings(nss)
		for _, ns := range nss {
			for _, id := range d.Elements[ns] {
				dr.Elements = append(dr.Elements, policy.Element{Namespace: ns, Identifier: id, IntentToRetain: slices.Contains(d.Retain, id)})
			}
		}
		out.Documents = append(out.Documents, dr)
	}
	return out
}

func (c *Config) validate() error {
	e := &errList{c: c}
	profiles := c.ProfileNames()
	// Profiles.
	for _, name := range sortedKeys(c.Profiles) {
		p := c.Profiles[name]
		path := "profiles." + name
		if len(p.Documents) == 0 {
			e.add(path, "no documents: name at least one doc type and its elements")
		}
		for i, d := range p.Documents {
			dp := fmt.Sprintf("%s.documents[%d]", path, i)
			if d.DocType == "" {
				e.add(dp, "doctype missing (mdl, mnc or a doc type such as org.iso.18013.5.1.mDL)")
			}
			if len(d.Elements) == 0 {
				e.add(dp, "no elements requested")
			}
			for _, r := range d.Retain {
				found := false
				for _, ids := range d.Elements {
					found = found || slices.Contains(ids, r)
				}
				if !found {
					e.add(dp+".retain", "%q is not among the requested elements", r)
				}
			}
		}
		if p.Identity != "" {
			if _, ok := c.Identities[p.Identity]; !ok {
				e.add(path+".identity", "unknown identity %q", p.Identity)
			}
		}
		if _, err := revocation.ParseMode(p.Revocation); err != nil {
			e.add(path+".revocation", "want hard or soft, got %q", p.Revocation)
			p.Revocation = ""
		}
		if len(p.Documents) > 0 {
			if err := policyProfile(name, p).Validate(); err != nil {
				e.add(path, "%s", strings.TrimPrefix(err.Error(), "policy: "))
			}
		}
	}
	// Readers.
	names := map[string]bool{}
	for i, r := range c.Readers {
		path := fmt.Sprintf("readers[%d]", i)
		if names[r.Name] {
			e.add(path+".name", "reader name %q used twice", r.Name)
		}
		names[r.Name] = true
		switch r.Driver {
		case DriverPCSC:
		case DriverSimulated:
			if r.Device != "" {
				e.add(path+".device", "a simulated reader has no device")
			}
		case DriverQR:
			if r.Device == "" {
				e.add(path, "device missing: the scanner's tty (e.g. /dev/ttyACM0) or - for standard input")
			}
			if r.BLE.Adapter == "" {
				e.add(path, "a qr reader needs a BLE radio (QR engagement retrieves over BLE): set ble.adapter here or at the top level")
			}
		case DriverPN532:
			if r.Device != "" {
				e.add(path+".device", "a pn532 reader has a bus, not a device")
			}
			if r.Bus == "" {
				e.add(path, "bus missing: i2c:/dev/i2c-1, spi:/dev/spidev0.0 or uart:/dev/ttyAMA0")
			} else if _, err := pn532.ParseBus(r.Bus); err != nil {
				e.add(path+".bus", "%s", strings.TrimPrefix(err.Error(), "pn532: "))
			}
		default:
			e.add(path+".driver", "unknown driver %q (pcsc, simulated, qr or pn532)", r.Driver)
		}
		if r.Driver != DriverPN532 && (r.Bus != "" || r.Reset != "" || r.IRQ != "") {
			e.add(path, "bus, reset and irq are settings of a pn532 reader")
		}
		c.validateTransports(e, path, r)
		if r.Limits != LimitsExtended && r.Limits != LimitsShort {
			e.add(path+".limits", "unknown limits %q (extended or short)", r.Limits)
		}
		if r.Profile == "" {
			e.add(path, "profile missing (one of %s)", strings.Join(profiles, ", "))
		} else if !slices.Contains(profiles, r.Profile) {
			e.add(path+".profile", "unknown profile %q (known: %s)", r.Profile, strings.Join(profiles, ", "))
		}
		if r.Identity != "" {
			if _, ok := c.Identities[r.Identity]; !ok {
				e.add(path+".identity", "unknown identity %q", r.Identity)
			}
		}
		for j, o := range r.Outputs {
			if _, ok := c.Outputs[o]; !ok {
				e.add(fmt.Sprintf("%s.outputs[%d]", path, j), "unknown output %q", o)
			}
		}
	}
	if len(c.Readers) == 0 {
		e.add("readers", "no readers configured (or set demo: true)")
	}
	if c.BLE.Adapter == AdapterSimulated {
		e.add("ble.adapter", "the simulated radio is only for simulated readers: set it in the reader's own ble section")
	}
	// Trust.
	c.validateTrust(e)
	// Identities.
	for _, name := range sortedKeys(c.Identities) {
		id := c.Identities[name]
		path := "identities." + name
		for key, f := range map[string]string{"cert": id.Cert, "key": id.Key} {
			if f == "" {
				e.add(path, "%s missing", key)
			} else if _, err := os.Stat(c.resolve(f)); err != nil {
				e.add(path+"."+key, "%v", err)
			}
		}
	}
	// Outputs.
	for _, name := range sortedKeys(c.Outputs) {
		o := c.Outputs[name]
		path := "outputs." + name
		switch o.Type {
		case OutputConsole:
			if o.Pins != (Pins{}) {
				e.add(path+".pins", "a console output has no pins")
			}
		case OutputGPIO:
			if o.Pins == (Pins{}) {
				e.add(path+".pins", "no pins: name at least one of green, red, buzzer, relay")
			}
			for i, r := range o.ActiveLow {
				switch r {
				case "green", "red", "buzzer", "relay":
				default:
					e.add(fmt.Sprintf("%s.active_low[%d]", path, i), "unknown role %q (green, red, buzzer or relay)", r)
				}
			}
			switch o.Timings.Ready {
			case "", "steady", "blink", "off":
			default:
				e.add(path+".timings.ready", "unknown mode %q (steady, blink or off)", o.Timings.Ready)
			}
			for key, pat := range map[string][]Duration{"ready_blink": o.Timings.ReadyBlink, "reading_blink": o.Timings.ReadingBlink, "fault_blink": o.Timings.FaultBlink} {
				if len(pat)%2 != 0 {
					e.add(path+".timings."+key, "a blink needs an even number of durations (on, off, ...)")
				}
			}
		default:
			e.add(path+".type", "unknown output type %q (gpio or console)", o.Type)
		}
	}
	// HTTP and logging.
	if c.HTTP.Listen != "off" {
		host, _, err := net.SplitHostPort(c.HTTP.Listen)
		switch {
		case err != nil:
			e.add("http.listen", "bad address %q: %v", c.HTTP.Listen, err)
		case !isLoopback(host) && c.HTTP.Token == "" && c.HTTP.TokenFile == "":
			e.add("http.listen", "%q is not a loopback address: set http.token or http.token_file", c.HTTP.Listen)
		}
	}
	if c.HTTP.TokenFile != "" {
		if _, err := c.Token(); err != nil {
			var le *lineError
			if errors.As(err, &le) {
				err = errors.New(le.msg)
			}
			e.add("http.token_file", "%v", err)
		}
	}
	if k := c.HTTP.DisplayKey; k != "" && len(k) < 16 {
		e.add("http.display_key", "a display key of %d characters is too easy to guess: use at least 16", len(k))
	}
	if c.HTTP.Token != "" && c.HTTP.TokenFile != "" {
		e.add("http.token", "set token or token_file, not both")
	}
	switch c.Logging.Level {
	case "debug", "info", "warn", "error":
	default:
		e.add("logging.level", "unknown level %q (debug, info, warn or error)", c.Logging.Level)
	}
	return errors.Join(e.errs...)
}

// validateTransports checks a reader's transports and radio.
func (c *Config) validateTransports(e *errList, path string, r Reader) {
	seen := map[terminal.Transport]bool{}
	for j, s := range r.Transports {
		tp := fmt.Sprintf("%s.transports[%d]", path, j)
		t, err := terminal.ParseTransport(s)
		switch {
		case err != nil:
			e.add(tp, "unknown transport %q (nfc, ble-central or ble-peripheral)", s)
			continue
		case seen[t]:
			e.add(tp, "transport %q listed twice", s)
		case t == terminal.TransportNFC && r.Driver == DriverQR:
			e.add(tp, "a qr reader retrieves over BLE only (ble-central, ble-peripheral)")
		case t != terminal.TransportNFC && r.BLE.Adapter == "" && r.Driver != DriverQR:
			e.add(tp, "%s needs a BLE radio: set ble.adapter here or at the top level", s)
		}
		seen[t] = true
	}
	if r.BLE.Adapter == AdapterSimulated && r.Driver != DriverSimulated && c.lines[path+".ble.adapter"] != 0 {
		e.add(path+".ble.adapter", "the simulated radio only reaches a simulated reader's wallets")
	}
	if r.Driver == DriverSimulated && r.BLE.Adapter != "" && r.BLE.Adapter != AdapterSimulated {
		e.add(path+".ble.adapter", "a simulated reader's wallets only reach the simulated radio (adapter: simulated)")
	}
}

// Errorf returns an error naming the file, the line of the key at path and
// the key, for errors found after loading (e.g. by an output's constructor).
func (c *Config) Errorf(path, format string, args ...any) error {
	return &lineError{file: c.Path, line: c.Line(path), path: path, msg: fmt.Sprintf(format, args...)}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Token returns the bearer token of the API, read from TokenFile if set.
func (c *Config) Token() (string, error) {
	if c.HTTP.TokenFile == "" {
		return c.HTTP.Token, nil
	}
	b, err := os.ReadFile(c.resolve(c.HTTP.TokenFile))
	if err != nil {
		return "", &lineError{file: c.Path, line: c.Line("http.token_file"), path: "http.token_file", msg: err.Error()}
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		// An empty token would mean no token: every local client trusted,
		// when the operator asked for one.
		return "", &lineError{file: c.Path, line: c.Line("http.token_file"), path: "http.token_file",
			msg: fmt.Sprintf("%s holds no token", c.resolve(c.HTTP.TokenFile))}
	}
	return tok, nil
}

// AuditPath returns the audit file's path, resolved against the
// configuration file's directory.
func (c *Config) AuditPath() string { return c.resolve(c.Logging.Audit) }

// Profile returns the named profile: a configured one, or a built-in.
func (c *Config) Profile(name string) (*policy.Profile, bool) {
	if p, ok := c.Profiles[name]; ok {
		return policyProfile(name, p), true
	}
	p, ok := policy.Builtin()[name]
	return p, ok
}

// Settings loads the trust anchors and reader identities and returns the
// daemon's settings. extraTrust (the demo issuers) is added to the trust
// store. A trust directory that is still empty (no files but hidden ones)
// adds no anchor and is no error, so a freshly installed terminal starts
// and rejects every document as issuer_untrusted until certificates are
// put there and the configuration reloaded; any other unreadable entry,
// including a directory holding no certificate, is an error.
func (c *Config) Settings(extraTrust ...*x509.Certificate) (*daemon.Settings, error) {
	e := &errList{c: c}
	s := &daemon.Settings{
		Profiles:         map[string]*policy.Profile{},
		Identities:       map[string]*terminal.ReaderIdentity{},
		ReaderProfiles:   map[string]string{},
		ReaderIdentities: map[string]string{},
	}
	for _, n := range c.ProfileNames() {
		s.Profiles[n], _ = c.Profile(n)
	}
	s.Trust = verify.NewTrustStore(extraTrust...)
	for i, t := range c.Trust.Folders {
		ts, err := verify.LoadTrustStore(c.resolve(t))
		if err != nil && isEmptyDir(c.resolve(t)) {
			// A freshly installed terminal: the trust directory waits for
			// the operator's IACA certificates (every document is
			// rejected issuer_untrusted meanwhile).
			continue
		}
		if err != nil {
			e.add(c.Trust.folderPath(i), "%v", err)
			continue
		}
		for _, cert := range ts.Certificates() {
			info, _ := ts.Anchor(cert)
			s.Trust.AddAnchors(info, cert)
		}
	}
	for _, name := range sortedKeys(c.Identities) {
		id, err := loadIdentity(c.resolve(c.Identities[name].Cert), c.resolve(c.Identities[name].Key))
		if err != nil {
			e.add("identities."+name, "%v", err)
			continue
		}
		s.Identities[name] = id
	}
	for _, r := range c.Readers {
		s.ReaderProfiles[r.Name] = r.Profile
		s.ReaderIdentities[r.Name] = r.Identity
	}
	if len(e.errs) > 0 {
		return nil, errors.Join(e.errs...)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Path, err)
	}
	return s, nil
}

// isEmptyDir reports whether path is a directory holding no files but
// hidden ones (a trust directory nobody has filled yet).
func isEmptyDir(path string) bool {
	entries, err := os.ReadDir(path)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			return false
		}
	}
	return true
}

// loadIdentity reads a PEM certificate chain (leaf first) and its PEM key.
func loadIdentity(certPath, keyPath string) (*terminal.ReaderIdentity, error) {
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	chain, err := verify.ParseCertificates(cb)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", certPath, err)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("reading %s: no certificate", certPath)
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	key, err := keyfile.ParseECDSA(kb)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", keyPath, err)
	}
	if !publicEqual(chain[0].PublicKey, key.Public()) {
		return nil, fmt.Errorf("%s is not the key of %s", keyPath, certPath)
	}
	// Annex B reader authentication profile: a certificate a wallet would
	// refuse is refused here, so a bad renewal never replaces a good one
	// on SIGHUP.
	if err := identity.CheckProfile(chain[0], key.Public()); err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	return &terminal.ReaderIdentity{Key: key, Chain: chain}, nil
}

func publicEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	ea, ok := a.(equaler)
	return ok && ea.Equal(b)
}
