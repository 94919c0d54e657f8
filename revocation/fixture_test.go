package revocation_test

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"io"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/internal/testvectors"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/revocation"
	"github.com/idreader/idreader/revocation/revocationtest"
	"github.com/idreader/idreader/verify"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func seeded(seed uint64) io.Reader { return rand.NewChaCha8([32]byte{byte(seed), 0x52}) }

// fixture is an issuer (IACA, DS, status list signer) and a wallet
// presenting one mDL, as the simulated wallet makes them.
type fixture struct {
	pki        *pki.PKI
	transcript []byte
	readerKey  *ecdh.PrivateKey
	signer     *revocationtest.Signer
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	p, err := pki.New(pki.Options{Rand: seeded(1), Now: testNow})
	if err != nil {
		tb.Fatal(err)
	}
	rk, err := ecdh.P256().GenerateKey(seeded(2))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := revocationtest.NewSigner(seeded(3), p.IACA, p.IACAKey, testNow.AddDate(0, -1, 0), testNow.AddDate(1, 0, 0))
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{pki: p, transcript: testvectors.AnnexD(tb, "session_transcript_bytes"), readerKey: rk, signer: s}
}

// response issues an mDL (with the MSO status given) and presents it
// with a deviceSignature.
func (f *fixture) response(tb testing.TB, status cbor.RawMessage) []byte {
	tb.Helper()
	els, err := credential.MDL(credential.SampleOptions{Now: testNow})
	if err != nil {
		tb.Fatal(err)
	}
	devKey, err := ecdsa.GenerateKey(elliptic.P256(), seeded(4))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := credential.Issue(credential.IssueOptions{
		Rand: seeded(5), DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: devKey,
		DSCert: f.pki.DS, DSKey: f.pki.DSKey, Signed: testNow.Add(-time.Hour), Status: status,
	})
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := c.Present(credential.PresentOptions{Rand: seeded(6), SessionTranscript: f.transcript,
		Requested: map[string]map[string]bool{mdoc.NameSpaceMDL: {"family_name": false, "age_over_18": false}}})
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := credential.DeviceResponse(0, nil, doc)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

func (f *fixture) options(c verify.RevocationChecker) verify.Options {
	return verify.Options{Trust: verify.NewTrustStore(f.pki.IACA), Now: testNow, SessionTranscript: f.transcript,
		ReaderKey: f.readerKey, Revocation: c}
}

// crl is a verified CRL of the fixture's IACA listing serials.
func (f *fixture) crl(tb testing.TB, this, next time.Time, serials ...*big.Int) *revocation.CRL {
	tb.Helper()
	der, err := revocationtest.CRL(seeded(7), f.pki.IACA, f.pki.IACAKey, serials, this, next)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := revocation.LoadCRL(der, []*x509.Certificate{f.pki.IACA})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
