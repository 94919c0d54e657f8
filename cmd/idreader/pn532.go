package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"periph.io/x/host/v3"

	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pcsc"
	"github.com/idreader/idreader/reader/pn532"
	"github.com/idreader/idreader/reader/pn532/pn532host"
	"github.com/idreader/idreader/reader/pn532/pn532test"
	"github.com/idreader/idreader/terminal"
)

// pn532Prefix marks a PN532 where a PC/SC reader name goes:
// "pn532:i2c:/dev/i2c-1".
const pn532Prefix = "pn532:"

// emulatedPrefix names the emulated PN532 of reader/pn532/pn532test as a
// bus ("emulated:i2c"), for trying the commands without a board.
const emulatedPrefix = "emulated:"

// selftestBus checks --reader and --bus of selftest and returns the
// emulated chip's bus, empty without --reader pn532.
func selftestBus(readerKind, bus, engagement string) (string, error) {
	switch readerKind {
	case "":
		if bus != "" {
			return "", errors.New("--bus needs --reader pn532")
		}
		return "", nil
	case "pn532":
	default:
		return "", fmt.Errorf("--reader %q: want pn532 (or no --reader for the in-process card)", readerKind)
	}
	if engagement != "nfc" {
		return "", errors.New("--reader pn532 needs NFC engagement")
	}
	if bus == "" {
		bus = pn532test.BusI2C
	}
	for _, b := range pn532test.Buses {
		if b == bus {
			return bus, nil
		}
	}
	return "", fmt.Errorf("--bus %q: want i2c, spi or uart", bus)
}

// selftestPN532 runs the tap through the PN532 driver and an emulated chip
// on o.pn532Bus with the wallet in its field, and reports the chip's
// traffic on stderr.
func selftestPN532(ctx context.Context, o selftestOptions, w *wallet.Wallet, cfg terminal.Config) (*terminal.Outcome, error) {
	rig, err := pn532test.NewRig(ctx, o.pn532Bus, pn532test.Options{}, pn532.Options{})
	if err != nil {
		return nil, fmt.Errorf("starting the emulated PN532: %w", err)
	}
	defer rig.Close()
	rig.Chip.Put(w)
	t, err := rig.Reader.Wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for the wallet on the PN532: %w", err)
	}
	defer t.Close()
	cfg.Limits = terminal.NFCLimits(t.Limits())
	out, err := terminal.Tap(ctx, t, cfg)
	st := rig.Reader.Stats()
	fmt.Fprintf(o.stderr, "pn532: %s bus, %s, %d frames (%d bytes) on the bus, %d bytes on the air (%d APDU bytes, modelled %v), %v\n",
		o.pn532Bus, rig.Reader.Firmware(), st.Bus.Frames, st.Bus.Bytes, st.AirBytes, st.APDUBytes, st.AirTime.Round(time.Millisecond), st.BitRate)
	return out, err
}

// openPN532 opens the PN532 on bus: KIND:PATH through the host's drivers,
// or emulated:KIND for the emulated chip with an empty field.
func openPN532(ctx context.Context, bus string) (*pn532.Reader, io.Closer, error) {
	if kind, ok := strings.CutPrefix(bus, emulatedPrefix); ok {
		rig, err := pn532test.NewRig(ctx, kind, pn532test.Options{}, pn532.Options{Name: pn532Prefix + bus})
		if err != nil {
			return nil, nil, err
		}
		return rig.Reader, rig, nil
	}
	b, err := pn532.ParseBus(bus)
	if err != nil {
		return nil, nil, err
	}
	if _, err := host.Init(); err != nil {
		return nil, nil, fmt.Errorf("initialising periph host drivers: %w", err)
	}
	return pn532host.Open(ctx, b, pn532host.Options{})
}

// readPN532 is readOnce on a PN532.
func readPN532(ctx context.Context, bus string, cfg terminal.Config) (*terminal.Outcome, error) {
	rd, c, err := openPN532(ctx, bus)
	if err != nil {
		return nil, fmt.Errorf("opening the PN532 on %s: %w", bus, err)
	}
	defer c.Close()
	defer rd.Close()
	return tapFirst(ctx, rd, cfg)
}

// tapFirst waits for one target on rd and runs one tap.
func tapFirst(ctx context.Context, rd reader.Reader, cfg terminal.Config) (*terminal.Outcome, error) {
	target, err := rd.Wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for a tap: %w", err)
	}
	defer target.Close()
	cfg.Limits = terminal.NFCLimits(target.Limits())
	return terminal.Tap(ctx, target, cfg)
}

const readersUsage = `usage: idreader readers [--json] [--pn532 BUS] [--timeout D]

Lists the PC/SC readers pcscd knows, and probes a PN532 given with --pn532:
its firmware, its bus and the bit rates it can raise a target to.

  --pn532 BUS   i2c:/dev/i2c-1, spi:/dev/spidev0.0 or uart:/dev/ttyAMA0
                (emulated:i2c, emulated:spi or emulated:uart for the emulated chip)
  --timeout D   limit for the probe (default 5s)
  --json        print one JSON object

Exit status: 0 listed (and the PN532 answered), 2 the probe or the listing failed.
`

// readersReport is the JSON form of 'idreader readers'.
type readersReport struct {
	PCSC  pcscReport   `json:"pcsc"`
	PN532 *pn532Report `json:"pn532,omitempty"`
}

type pcscReport struct {
	Readers []string `json:"readers"`
	Error   string   `json:"error,omitempty"`
}

type pn532Report struct {
	Name     string `json:"name"`
	Bus      string `json:"bus"`
	Firmware string `json:"firmware,omitempty"`
	IC       int    `json:"ic,omitempty"`
	Version  string `json:"version,omitempty"`
	BitRates []int  `json:"bit_rates_kbps,omitempty"`
	Error    string `json:"error,omitempty"`
}

// runReaders implements `idreader readers`.
func runReaders(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("readers", readersUsage, stdout, stderr)
	bus := fs.String("pn532", "", "")
	timeout := fs.Duration("timeout", 5*time.Second, "")
	asJSON := fs.Bool("json", false, "")
	if code, ok := fs.parseOnly(args); !ok {
		return code
	}
	if *timeout <= 0 {
		return fs.usageErr("--timeout must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var rep readersReport
	code := exitOK
	rep.PCSC.Readers = []string{}
	if prov, err := pcsc.New(pcsc.Options{}); err != nil {
		rep.PCSC.Error = err.Error()
	} else if names, err := prov.List(ctx); err != nil {
		rep.PCSC.Error = err.Error()
	} else {
		rep.PCSC.Readers = names
	}
	if rep.PCSC.Error != "" && *bus == "" {
		code = exitUsage
	}
	if *bus != "" {
		p := &pn532Report{Name: pn532Prefix + *bus, Bus: *bus}
		rep.PN532 = p
		rd, c, err := openPN532(ctx, *bus)
		if err != nil {
			p.Error = err.Error()
			code = exitUsage
		} else {
			fw := rd.Firmware()
			p.Firmware, p.IC, p.Version = fw.String(), int(fw.IC), fmt.Sprintf("%d.%d", fw.Version, fw.Revision)
			// The PN532 reaches 212 and 424 kbit/s with ISO/IEC 14443-4
			// targets that allow it (InPSL).
			p.BitRates = []int{int(pn532.Rate106), int(pn532.Rate212), int(pn532.Rate424)}
			rd.Close()
			c.Close()
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "idreader readers: %v\n", err)
			return exitUsage
		}
		return code
	}
	if rep.PCSC.Error != "" {
		fmt.Fprintf(stdout, "pcsc: unavailable: %s\n", rep.PCSC.Error)
	} else if len(rep.PCSC.Readers) == 0 {
		fmt.Fprintln(stdout, "pcsc: no readers")
	}
	for _, n := range rep.PCSC.Readers {
		fmt.Fprintf(stdout, "pcsc: %s\n", n)
	}
	if p := rep.PN532; p != nil {
		if p.Error != "" {
			fmt.Fprintf(stdout, "%s: not answering: %s\n", p.Name, p.Error)
		} else {
			fmt.Fprintf(stdout, "%s: %s on %s, bit rates 106/212/424 kbit/s\n", p.Name, p.Firmware, p.Bus)
		}
	}
	return code
}
