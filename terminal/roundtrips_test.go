package terminal_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// apduCounter counts the APDUs of a tap, split at the SELECT of the NFC data
// transfer application into engagement and retrieval.
type apduCounter struct {
	t                     nfc.Transceiver
	engagement, retrieval int
	bytes                 int
	inRetrieval           bool
}

var selectDataTransfer = func() []byte {
	b, err := nfc.SelectAID(nfc.DataTransferAID).Encode()
	if err != nil {
		panic(err)
	}
	return b
}()

func (c *apduCounter) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if bytes.Equal(apdu, selectDataTransfer) {
		c.inRetrieval = true
	}
	if c.inRetrieval {
		c.retrieval++
	} else {
		c.engagement++
	}
	r, err := c.t.Transmit(ctx, apdu)
	c.bytes += len(apdu) + len(r)
	return r, err
}

// roundTripCase is one row of the round-trip table.
type roundTripCase struct {
	mode   wallet.HandoverMode
	reader string // "extended" or "short-only"
	// want is the APDU count the protocol allows: engagement + retrieval.
	wantEngagement, wantRetrieval int
}

// roundTripCases are the modes of docs/round-trips.md with the fewest APDUs
// each needs for an mDL with a portrait and reader authentication (the
// "default" profile; the request is about 2 KB, the response about 5.4 KB):
//
//   - static: SELECT NDEF application, SELECT CC, READ CC, SELECT NDEF
//     file, READ BINARY of NLEN and the Handover Select together;
//   - negotiated (TNEP): the same detection, then UPDATE BINARY of the
//     Service Select (NLEN and message in one), READ of the status, UPDATE
//     BINARY of the Handover Request, READ of the Handover Select;
//   - apple: negotiated handover where the Handover Select reads NLEN 0
//     three times first (one READ BINARY each);
//   - retrieval: SELECT of the data transfer application, the request in
//     ENVELOPEs (one when extended, 255-byte chained blocks when short),
//     GET RESPONSE for the rest of the reply (none when extended, 256-byte
//     pieces when short), and the termination ENVELOPE.
var roundTripCases = []roundTripCase{
	{wallet.HandoverStatic, "extended", 5, 3},
	{wallet.HandoverStatic, "short-only", 5, 31},
	{wallet.HandoverNegotiated, "extended", 9, 3},
	{wallet.HandoverNegotiated, "short-only", 9, 31},
	{wallet.HandoverApple, "extended", 12, 3},
	{wallet.HandoverApple, "short-only", 12, 31},
}

type rtFixture struct {
	trust  *verify.TrustStore
	mdl    *credential.Credential
	reader *terminal.ReaderIdentity
}

var (
	rtOnce sync.Once
	rtFix  *rtFixture
	rtErr  error
)

func roundTripFixture(t testing.TB) *rtFixture {
	t.Helper()
	rtOnce.Do(func() {
		now := time.Now()
		p, err := pki.New(pki.Options{Now: now, Country: "US"})
		if err != nil {
			rtErr = err
			return
		}
		els, err := credential.MDL(credential.SampleOptions{Now: now, Country: "US"})
		if err != nil {
			rtErr = err
			return
		}
		dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			rtErr = err
			return
		}
		mdl, err := credential.Issue(credential.IssueOptions{DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: dk, DSCert: p.DS, DSKey: p.DSKey, Signed: now.Add(-time.Hour)})
		if err != nil {
			rtErr = err
			return
		}
		rtFix = &rtFixture{
			trust:  verify.NewTrustStore(p.IACA),
			mdl:    mdl,
			reader: &terminal.ReaderIdentity{Key: p.ReaderKey, Chain: []*x509.Certificate{p.Reader}},
		}
	})
	if rtErr != nil {
		t.Fatal(rtErr)
	}
	return rtFix
}

// TestRoundTrips counts the APDUs of one tap per engagement mode and reader
// class against the protocol minimum, and prints the table of
// docs/round-trips.md:
//
//	go test -run TestRoundTrips -v ./terminal
func TestRoundTrips(t *testing.T) {
	f := roundTripFixture(t)
	prof := terminal.DefaultRequestProfile()
	var table strings.Builder
	table.WriteString("| engagement | reader | engagement APDUs | retrieval APDUs | total | bytes on the wire |\n|---|---|---|---|---|---|\n")
	for _, tc := range roundTripCases {
		t.Run(string(tc.mode)+"/"+tc.reader, func(t *testing.T) {
			w, err := wallet.New(wallet.Config{Credentials: []*credential.Credential{f.mdl}, Handover: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			cfg := terminal.Config{
				Trust: f.trust, Request: prof, ReaderAuth: f.reader,
				Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
			}
			if tc.reader == "extended" {
				cfg.Limits = nfc.Limits{ExtendedAPDU: true}
			}
			c := &apduCounter{t: w.Transceiver()}
			out, err := terminal.Tap(context.Background(), c, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !out.Result.Accepted() {
				t.Fatalf("not accepted: %v", out.Result.Failures)
			}
			fmt.Fprintf(&table, "| %s | %s | %d | %d | %d | %d |\n", tc.mode, tc.reader, c.engagement, c.retrieval, c.engagement+c.retrieval, c.bytes)
			if c.engagement != tc.wantEngagement || c.retrieval != tc.wantRetrieval {
				t.Errorf("%d + %d APDUs, the protocol needs %d + %d", c.engagement, c.retrieval, tc.wantEngagement, tc.wantRetrieval)
			}
		})
	}
	t.Logf("APDUs per tap (mDL with portrait, reader authentication):\n%s", table.String())
}
