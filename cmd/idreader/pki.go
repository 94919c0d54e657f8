package main

import (
	"context"
	"crypto/elliptic"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/idreader/idreader/holder/pki"
)

const pkiUsage = `usage: idreader pki --out DIR [--country CC] [--state NAME] [--curve p256|p384|p521]

Writes a fresh test PKI for the simulated wallet and the reader's tests
(ISO/IEC 18013-5 Annex B profiles): an IACA root and a Document Signer, a
reader-authentication root and a reader certificate, each with its PKCS#8
private key. DIR/iaca.pem is the trust anchor to give the reader. The keys are
test keys: never use them for anything else.

  --out DIR       directory to write (created if needed)
  --country CC    ISO 3166-1 alpha-2 countryName of the IACA and DS (default US;
                  use JP for the My Number Card sample)
  --state NAME    optional stateOrProvinceName (AAMVA profile)
  --curve NAME    key curve (default p256)

Exit status: 0 written, 1 failure, 2 usage.
`

// runPKI implements `idreader pki`.
func runPKI(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("pki", pkiUsage, stdout, stderr)
	out := fs.String("out", "", "")
	country := fs.String("country", pki.DefaultCountry, "")
	state := fs.String("state", "", "")
	curveName := fs.String("curve", "p256", "")
	usageErr := fs.usageErr
	if code, ok := fs.parseOnly(args); !ok {
		return code
	}
	if *out == "" {
		return usageErr("--out is required")
	}
	cc := strings.ToUpper(*country)
	if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
		return usageErr("--country %q is not an ISO 3166-1 alpha-2 code", *country)
	}
	var curve elliptic.Curve
	switch strings.ToLower(strings.ReplaceAll(*curveName, "-", "")) {
	case "p256":
		curve = elliptic.P256()
	case "p384":
		curve = elliptic.P384()
	case "p521":
		curve = elliptic.P521()
	default:
		return usageErr("--curve %q: want p256, p384 or p521", *curveName)
	}
	p, err := pki.New(pki.Options{Country: cc, StateOrProvince: *state, Curve: curve})
	if err != nil {
		fmt.Fprintf(stderr, "idreader pki: %v\n", err)
		return exitReject
	}
	if err := p.Save(*out); err != nil {
		fmt.Fprintf(stderr, "idreader pki: %v\n", err)
		return exitReject
	}
	fmt.Fprintf(stdout, "test PKI (country %s) written to %s\n", cc, *out)
	fmt.Fprintf(stdout, "trust anchor: %s\n", filepath.Join(*out, pki.FileIACA))
	fmt.Fprintf(stdout, "reader root:  %s\n", filepath.Join(*out, pki.FileReaderRoot))
	return exitOK
}
