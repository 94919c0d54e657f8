package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/pem"
	"io"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/revocation/revocationtest"
	"github.com/idreader/idreader/verify"
)

var revNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func revSeed(s uint64) io.Reader { return rand.NewChaCha8([32]byte{byte(s), 0x43}) }

// revocationFixture writes an IACA, a response signed under it (with
// deviceSignature over the Annex D transcript) and CRLs to a directory.
type revocationFixture struct {
	dir, iaca, response, transcript string
	pki                             *pki.PKI
}

func newRevocationFixture(t *testing.T) *revocationFixture {
	t.Helper()
	p, err := pki.New(pki.Options{Rand: revSeed(1), Now: revNow})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := &revocationFixture{dir: dir, pki: p, iaca: filepath.Join(dir, "iaca.pem"), response: filepath.Join(dir, "response.cbor"),
		transcript: annexd + "session_transcript_bytes.hex"}
	write(t, f.iaca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.IACA.Raw}))
	els, err := credential.MDL(credential.SampleOptions{Now: revNow})
	if err != nil {
		t.Fatal(err)
	}
	devKey, _ := ecdsa.GenerateKey(elliptic.P256(), revSeed(2))
	c, err := credential.Issue(credential.IssueOptions{Rand: revSeed(3), DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: devKey,
		DSCert: p.DS, DSKey: p.DSKey, Signed: revNow.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.ReadFile(f.transcript)
	if err != nil {
		t.Fatal(err)
	}
	stb, _ := verify.DecodeHexText(st)
	doc, err := c.Present(credential.PresentOptions{Rand: revSeed(4), SessionTranscript: stb,
		Requested: map[string]map[string]bool{mdoc.NameSpaceMDL: {"age_over_18": false}}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := credential.DeviceResponse(0, nil, doc)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f.response, resp)
	return f
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *revocationFixture) crl(t *testing.T, name string, p *pki.PKI, this, next time.Time, serials ...*big.Int) string {
	t.Helper()
	der, err := revocationtest.CRL(revSeed(5), p.IACA, p.IACAKey, serials, this, next)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.dir, name)
	if strings.HasSuffix(name, ".pem") {
		der = revocationtest.PEM(der)
	}
	write(t, path, der)
	return path
}

func (f *revocationFixture) args(extra ...string) []string {
	return append(append([]string{"verify", "--trust", f.iaca, "--transcript", f.transcript,
		"--now", revNow.Format(time.RFC3339), "--json"}, extra...), f.response)
}

func TestVerifyCommandCRL(t *testing.T) {
	f := newRevocationFixture(t)
	fresh := func(name string, serials ...*big.Int) string {
		return f.crl(t, name, f.pki, revNow.Add(-time.Hour), revNow.Add(24*time.Hour), serials...)
	}
	revoked := fresh("revoked.pem", big.NewInt(77), f.pki.DS.SerialNumber)
	clean := fresh("clean.crl", big.NewInt(77))
	stale := f.crl(t, "stale.crl", f.pki, revNow.Add(-72*time.Hour), revNow.Add(-48*time.Hour))
	other, err := pki.New(pki.Options{Rand: revSeed(9), Now: revNow})
	if err != nil {
		t.Fatal(err)
	}
	foreign := f.crl(t, "foreign.crl", other, revNow.Add(-time.Hour), revNow.Add(time.Hour), f.pki.DS.SerialNumber)

	revocationOf := func(t *testing.T, out string) (bool, string) {
		t.Helper()
		r := decodeReport(t, out)
		for _, c := range r.Documents[0].Checks {
			if c.Check == "revocation" {
				return c.OK, c.Detail
			}
		}
		t.Fatalf("no revocation check in %s", out)
		return false, ""
	}
	t.Run("without revocation flags no check", func(t *testing.T) {
		code, out, errs := runCmd(t, f.args()...)
		if code != 0 || strings.Contains(out, `"revocation"`) {
			t.Fatalf("exit %d: %s %s", code, out, errs)
		}
	})
	t.Run("revoked DS", func(t *testing.T) {
		code, out, _ := runCmd(t, f.args("--crl", clean, "--crl", revoked)...)
		r := decodeReport(t, out)
		if code != 1 || r.Verdict != "reject" || len(r.Errors) != 1 || r.Errors[0].Code != "revoked" {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("clean CRL", func(t *testing.T) {
		code, out, _ := runCmd(t, f.args("--crl", clean, "--revocation", "hard")...)
		if ok, detail := revocationOf(t, out); code != 0 || !ok || !strings.HasPrefix(detail, "not revoked: CRL of ") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("CRL of another IACA is an input error", func(t *testing.T) {
		code, out, errs := runCmd(t, f.args("--crl", foreign)...)
		if code != 2 || out != "" || !strings.Contains(errs, "CRL "+foreign+": ") || !strings.Contains(errs, "signature not verified") {
			t.Fatalf("exit %d: %q %q", code, out, errs)
		}
	})
	t.Run("unreadable CRL", func(t *testing.T) {
		junk := filepath.Join(f.dir, "junk.crl")
		write(t, junk, []byte("junk"))
		if code, _, errs := runCmd(t, f.args("--crl", junk)...); code != 2 || !strings.Contains(errs, junk) {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if code, _, errs := runCmd(t, f.args("--crl", filepath.Join(f.dir, "absent.crl"))...); code != 2 || !strings.Contains(errs, "absent.crl") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	t.Run("stale CRL hard", func(t *testing.T) {
		code, out, _ := runCmd(t, f.args("--crl", stale, "--revocation", "hard")...)
		r := decodeReport(t, out)
		if code != 1 || len(r.Errors) != 1 || r.Errors[0].Code != "revocation_unknown" {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("stale CRL soft", func(t *testing.T) {
		for _, args := range [][]string{{"--crl", stale, "--revocation", "soft"}, {"--crl", stale}} {
			code, out, _ := runCmd(t, f.args(args...)...)
			ok, detail := revocationOf(t, out)
			if code != 0 || !ok || !strings.HasPrefix(detail, "not proven: no fresh CRL of ") || !strings.HasSuffix(detail, "(soft)") {
				t.Fatalf("%v: exit %d: %s", args, code, out)
			}
		}
	})
	t.Run("hard without any CRL", func(t *testing.T) {
		if code, out, _ := runCmd(t, f.args("--revocation", "hard")...); code != 1 || !strings.Contains(out, "revocation_unknown") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("bad mode", func(t *testing.T) {
		if code, _, errs := runCmd(t, f.args("--revocation", "strict")...); code != 2 || !strings.Contains(errs, "hard or soft") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
}
