// Command idreader is the operator's tool for the idreader mDL reader: it
// verifies a DeviceResponse offline and hosts the other subcommands (test PKI,
// simulated wallet, reading a card). Each subcommand lives in its own file
// and is listed once in the table below.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command runs one subcommand with its arguments (without the subcommand
// name) and returns the process exit code: 0 success, 1 a negative outcome
// (e.g. a rejected response), 2 usage error or unreadable input.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// commands is the subcommand table; a subcommand adds one line here.
var commands = map[string]struct {
	run     command
	summary string
}{
	"verify":   {runVerify, "verify a DeviceResponse offline against IACA trust anchors"},
	"identity": {runIdentity, "make the reader's authentication key and CSR, install the certificate a reader CA returns"},
	"vical":    {runVical, "verify a VICAL (Annex C issuer list) and list its IACA certificates"},
	"pki":      {runPKI, "write a test PKI (IACA, document signer, reader certificates)"},
	"sim":      {runSim, "run the simulated wallet as a card behind vpcd (pcscd's virtual reader)"},
	"read":     {runRead, "read one tap on a PC/SC reader, verify it and print the report"},
	"readers":  {runReaders, "list PC/SC readers and probe a PN532 on I2C, SPI or UART"},
	"replay":   {runReplay, "verify a recorded tap (read --record) offline and replay its APDUs"},
	"trust":    {runTrust, "list the trust anchors and sources of a daemon configuration (no network)"},
	"selftest": {runSelftest, "run one exchange in-process with the simulated wallet (NFC or BLE, NFC or QR engagement)"},
	"version":  {runVersion, "print the version, source commit and Go version of this build"},
}

// Exit codes shared by the subcommands.
const (
	exitOK     = 0
	exitReject = 1
	exitUsage  = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to the subcommand named by args[0] and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "idreader: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: idreader <command> [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}
