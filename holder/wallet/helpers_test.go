package wallet_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/session"
	"github.com/idreader/idreader/verify"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a PKI and a credential issued with it. The My Number Card
// needs a Japanese PKI: issuing_country must equal the DS country.
type fixture struct {
	pki  *pki.PKI
	cred *credential.Credential
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[string]*fixture{}
)

// getFixture issues (once per test binary) a credential of kind "mdl" or
// "mnc".
func getFixture(t testing.TB, kind string) *fixture {
	t.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f, ok := fixtures[kind]; ok {
		return f
	}
	country, docType := "US", mdoc.DocTypeMDL
	sample := credential.MDL
	if kind == "mnc" {
		country, docType, sample = "JP", mdoc.DocTypeMyNumberCard, credential.MyNumberCard
	}
	p, err := pki.New(pki.Options{Now: testNow, Country: country})
	if err != nil {
		t.Fatal(err)
	}
	els, err := sample(credential.SampleOptions{Now: testNow, Country: country})
	if err != nil {
		t.Fatal(err)
	}
	dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := credential.Issue(credential.IssueOptions{DocType: docType, Elements: els, DeviceKey: dk, DSCert: p.DS, DSKey: p.DSKey, Signed: testNow})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{pki: p, cred: c}
	fixtures[kind] = f
	return f
}

// request is what a test reader asks for.
type request struct {
	docType    string
	nameSpaces map[string]map[string]bool
}

func requestFor(kind string) request {
	if kind == "mnc" {
		return request{mdoc.DocTypeMyNumberCard, map[string]map[string]bool{
			mdoc.NameSpace23220JP: {"full_name_unicode": false, "portrait": false},
			mdoc.NameSpace23220:   {"age_over_20": false},
		}}
	}
	return request{mdoc.DocTypeMDL, map[string]map[string]bool{
		mdoc.NameSpaceMDL: {"family_name": false, "given_name": false, "portrait": false, "age_over_18": false},
	}}
}

func instant(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// readerTap is the reader side of one tap, built from package nfc and
// session: handover, SessionEstablishment, the reply, termination.
type readerTap struct {
	limits    nfc.Limits
	hrCarrier nfc.Carriers // what the Handover Request offers; zero means NFC
	// sign, when set, signs each DocRequest (reader authentication).
	sign func(st *session.SessionTranscript, d *mdoc.DocRequest) error
}

type tapResult struct {
	handover *nfc.HandoverResult
	reader   *session.Reader
	reply    *session.Message // decrypted reply, nil if the exchange failed
	response []byte
}

func (rt readerTap) run(ctx context.Context, tr nfc.Transceiver, reqs ...request) (*tapResult, error) {
	c := rt.hrCarrier
	if c.BLE == nil && c.NFC == nil && c.WiFiAware == nil {
		c.NFC = &nfc.NFCCarrier{Version: 1}
	}
	hr, err := nfc.NewHandoverRequest(rand.Reader, c, nil)
	if err != nil {
		return nil, err
	}
	hrBytes, err := hr.Encode()
	if err != nil {
		return nil, err
	}
	hrd := nfc.HandoverReader{Limits: rt.limits, Request: hrBytes, Sleep: instant}
	res, err := hrd.Read(ctx, tr)
	if err != nil {
		return nil, fmt.Errorf("handover: %w", err)
	}
	out := &tapResult{handover: res}
	de, err := mdoc.ParseDeviceEngagement(res.DeviceEngagement)
	if err != nil {
		return out, err
	}
	h, err := session.NFCHandover(res.Select, res.Request)
	if err != nil {
		return out, err
	}
	rd, err := session.NewReader(rand.Reader, de, h)
	if err != nil {
		return out, err
	}
	out.reader = rd
	var docs []mdoc.DocRequest
	for _, r := range reqs {
		d, err := mdoc.NewDocRequest(mdoc.ItemsRequest{DocType: r.docType, NameSpaces: r.nameSpaces})
		if err != nil {
			return out, err
		}
		if rt.sign != nil {
			if err := rt.sign(rd.Transcript(), &d); err != nil {
				return out, err
			}
		}
		docs = append(docs, d)
	}
	dr, err := mdoc.BuildDeviceRequest(docs[0], docs[1:]...)
	if err != nil {
		return out, err
	}
	se, err := rd.Establish(dr.Raw)
	if err != nil {
		return out, err
	}
	if res.Carriers.NFC == nil {
		return out, fmt.Errorf("wallet did not select NFC")
	}
	ex := nfc.NewExchanger(tr, rt.limits, res.Carriers.NFC)
	if err := ex.Select(ctx); err != nil {
		return out, err
	}
	reply, err := ex.Exchange(ctx, se)
	if err != nil {
		return out, fmt.Errorf("exchange: %w", err)
	}
	m, err := rd.Open(reply)
	if err != nil {
		return out, fmt.Errorf("opening reply: %w", err)
	}
	out.reply = m
	out.response = m.Plaintext
	term, err := rd.Terminate()
	if err != nil {
		return out, err
	}
	last, err := ex.Exchange(ctx, term)
	if err != nil {
		return out, fmt.Errorf("terminating: %w", err)
	}
	if len(last) != 0 {
		return out, fmt.Errorf("termination answered with %x", last)
	}
	return out, nil
}

// verdict verifies the response of a finished tap.
func (r *tapResult) verdict(p *pki.PKI) (*verify.Result, error) {
	return verify.Verify(r.response, verify.Options{
		Trust:             verify.NewTrustStore(p.IACA),
		Now:               testNow.Add(time.Hour),
		SessionTranscript: r.reader.Transcript().Bytes(),
		ReaderKey:         r.reader.PrivateKey(),
	})
}

// newWallet builds a wallet holding the fixtures' credentials.
func newWallet(t testing.TB, cfg wallet.Config, kinds ...string) *wallet.Wallet {
	t.Helper()
	for _, k := range kinds {
		cfg.Credentials = append(cfg.Credentials, getFixture(t, k).cred)
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	w, err := wallet.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// counter wraps a transceiver and counts APDUs and bytes both ways.
type counter struct {
	t              nfc.Transceiver
	apdus, cmd, rs int
	log            []string
	keep           bool
}

func (c *counter) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	r, err := c.t.Transmit(ctx, apdu)
	c.apdus++
	c.cmd += len(apdu)
	c.rs += len(r)
	if c.keep {
		c.log = append(c.log, hex.EncodeToString(apdu)+" -> "+hex.EncodeToString(r))
	}
	return r, err
}

// interop reads testdata/interop/NAME.hex.
func interop(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "interop", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
