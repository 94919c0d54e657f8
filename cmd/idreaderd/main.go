// Command idreaderd is the idreader daemon: it reads ISO/IEC 18013-5 mDLs
// and My Number cards on one or more NFC readers (NFC or Bluetooth LE data
// retrieval, BLE through BlueZ) or QR code scanners, decides with acceptance
// profiles, drives indicator/buzzer/relay outputs and a kiosk display page,
// and serves the point-of-sale HTTP API.
//
//	idreaderd --config /etc/idreaderd/idreaderd.yaml
//	idreaderd --demo        # no hardware: a simulated wallet taps every few seconds
//	idreaderd --version     # version, source commit, Go version
//
// SIGHUP reloads the configuration; SIGINT and SIGTERM stop the daemon
// within a bounded time with every output off. Under systemd (Type=notify)
// it sends READY=1, WATCHDOG=1 pings at half of WATCHDOG_USEC and
// STOPPING=1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/idreader/idreader/internal/buildinfo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "idreaderd:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	configPath string
	demo       bool
	listen     string
	check      bool
	version    bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("idreaderd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configPath, "config", "", "configuration file (YAML, see deploy/idreaderd.example.yaml)")
	fs.BoolVar(&o.demo, "demo", false, "run without hardware: a simulated reader and wallet, display on http://127.0.0.1:8080")
	fs.StringVar(&o.listen, "listen", "", "override http.listen (\"off\" for no TCP listener)")
	fs.BoolVar(&o.check, "check-config", false, "validate the configuration and exit")
	fs.BoolVar(&o.version, "version", false, "print the version, source commit and Go version and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.configPath == "" && !o.demo && !o.version {
		return o, errors.New("give --config FILE or --demo")
	}
	return o, nil
}

// run is the whole daemon: it returns when ctx ends (nil after a clean
// stop) or when start-up fails.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.version {
		fmt.Fprintln(stdout, "idreaderd", buildinfo.Read())
		return nil
	}
	a, err := newApp(o, stdout, stderr)
	if err != nil {
		return err
	}
	if o.check {
		a.close()
		fmt.Fprintln(stdout, "configuration OK")
		return nil
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return a.run(ctx, hup)
}
