package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/idreader/idreader/identity"
	"github.com/idreader/idreader/internal/keyfile"
	"github.com/idreader/idreader/verify"
)

// Files of a reader identity directory; the daemon's configuration points
// at reader.pem and reader_key.pem (identities: NAME: {cert, key}).
const (
	identityKeyFile  = "reader_key.pem"
	identityCSRFile  = "reader.csr"
	identityCertFile = "reader.pem"
)

const identityUsage = `usage: idreader identity request --out DIR --cn NAME [--country CC] [--reuse-key]
       idreader identity install --dir DIR [--now RFC3339] CERT.pem

The reader's own identity for mdoc reader authentication (ISO/IEC 18013-5
clause 9.1.4), enrolled with a reader CA.

request writes DIR/reader_key.pem (a new P-256 key, PKCS#8 PEM, mode 0600)
and DIR/reader.csr (a PKCS#10 request, PEM) to send to the CA. It refuses to
replace an existing key unless --reuse-key, which makes the request with the
key already in DIR (a renewal that keeps the key).

  --out DIR      directory to write (created with mode 0700 if needed)
  --cn NAME      subject commonName
  --country CC   subject countryName (ISO 3166-1 alpha-2)
  --reuse-key    make the request with DIR/reader_key.pem

install checks the certificate the CA returned (CERT.pem: PEM, leaf first,
with the CA certificates if any) against DIR/reader_key.pem and the Annex B
reader authentication profile (digitalSignature, not a CA, extended key usage
1.0.18013.5.1.6, valid at --now, signed by the next certificate when there is
one) and writes it to DIR/reader.pem. A running idreaderd whose identity
points there uses it from the next tap after SIGHUP.

  --dir DIR      the directory of request
  --now RFC3339  time the certificate must be valid at (default: now)

Exit status: 0 written, 1 refused (key exists, certificate does not fit),
2 usage or unreadable input.
`

// runIdentity implements `idreader identity`.
func runIdentity(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "request":
			return runIdentityRequest(args[1:], stdout, stderr)
		case "install":
			return runIdentityInstall(args[1:], stdout, stderr)
		case "-h", "--help", "help":
			fmt.Fprint(stdout, identityUsage)
			return exitOK
		}
	}
	fmt.Fprintln(stderr, "idreader identity: want request or install")
	fmt.Fprint(stderr, identityUsage)
	return exitUsage
}

func runIdentityRequest(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("identity request", identityUsage, stdout, stderr)
	out := fs.String("out", "", "")
	cn := fs.String("cn", "", "")
	country := fs.String("country", "", "")
	reuse := fs.Bool("reuse-key", false, "")
	if code, ok := fs.parseOnly(args); !ok {
		return code
	}
	if *out == "" || *cn == "" {
		return fs.usageErr("--out and --cn are required")
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "idreader identity request: "+format+"\n", a...)
		return code
	}
	keyPath := filepath.Join(*out, identityKeyFile)
	var key *ecdsa.PrivateKey
	if *reuse {
		b, err := os.ReadFile(keyPath)
		if err != nil {
			return fail(exitUsage, "--reuse-key: %v", err)
		}
		if key, err = keyfile.ParseECDSA(b); err != nil {
			return fail(exitUsage, "reading %s: %v", keyPath, err)
		}
	} else {
		if _, err := os.Stat(keyPath); err == nil {
			return fail(exitReject, "%s exists: renew into another directory, or pass --reuse-key to keep that key", keyPath)
		}
		var err error
		if key, err = identity.NewKey(rand.Reader); err != nil {
			return fail(exitReject, "%v", err)
		}
	}
	csr, err := identity.NewRequest(rand.Reader, key, *cn, *country)
	if err != nil {
		return fs.usageErr("%v", err)
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fail(exitUsage, "%v", err)
	}
	if !*reuse {
		if err := writeNewKey(keyPath, key); err != nil {
			return fail(exitReject, "%v", err)
		}
	}
	csrPath := filepath.Join(*out, identityCSRFile)
	if err := writeAtomic(csrPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), 0o644); err != nil {
		return fail(exitReject, "%v", err)
	}
	fmt.Fprintf(stdout, "key: %s\nrequest: %s (send it to the reader CA)\n", keyPath, csrPath)
	return exitOK
}

func runIdentityInstall(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("identity install", identityUsage, stdout, stderr)
	dir := fs.String("dir", "", "")
	nowStr := fs.String("now", "", "")
	positional, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if *dir == "" || len(positional) != 1 {
		return fs.usageErr("--dir and exactly one CERT.pem are required")
	}
	now, err := parseNow(*nowStr)
	if err != nil {
		return fs.usageErr("--now: %v", err)
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "idreader identity install: "+format+"\n", a...)
		return code
	}
	keyPath := filepath.Join(*dir, identityKeyFile)
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	key, err := keyfile.ParseECDSA(kb)
	if err != nil {
		return fail(exitUsage, "reading %s: %v", keyPath, err)
	}
	cb, err := os.ReadFile(positional[0])
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	chain, err := verify.ParseCertificates(cb)
	if err != nil {
		return fail(exitUsage, "reading %s: %v", positional[0], err)
	}
	var problems []error
	if err := identity.CheckCertificate(chain[0], key.Public(), now); err != nil {
		problems = append(problems, err)
	}
	if len(chain) > 1 {
		if err := chain[0].CheckSignatureFrom(chain[1]); err != nil {
			problems = append(problems, fmt.Errorf("not signed by the next certificate of %s (%s): %v", positional[0], chain[1].Subject, err))
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "idreader identity install: refusing %s (%s):\n", positional[0], clean(chain[0].Subject.String()))
		for _, p := range problems {
			for _, line := range strings.Split(p.Error(), "\n") {
				fmt.Fprintf(stderr, "  - %s\n", clean(line))
			}
		}
		return exitReject
	}
	var buf bytes.Buffer
	for _, c := range chain {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	certPath := filepath.Join(*dir, identityCertFile)
	if err := writeAtomic(certPath, buf.Bytes(), 0o644); err != nil {
		return fail(exitReject, "%v", err)
	}
	fmt.Fprintf(stdout, "installed %s (%s, valid until %s)\nidreaderd: identities: NAME: {cert: %s, key: %s}; send SIGHUP to a running daemon\n",
		certPath, clean(chain[0].Subject.String()), rfc3339(chain[0].NotAfter), certPath, keyPath)
	return exitOK
}

// writeNewKey writes key as PKCS#8 PEM to a new file of mode 0600; it
// never replaces a file (O_EXCL), even one made meanwhile.
func writeNewKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := f.Sync(); werr == nil {
		werr = err
	}
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	return nil
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so a reader (the daemon on SIGHUP) sees the old or
// the new file, never half of one.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return errors.Join(fmt.Errorf("writing %s", path), err)
	}
	return nil
}
