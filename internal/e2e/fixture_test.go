package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/internal/rig"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/pcsc"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// fixture is one test PKI with an mDL and a My Number card issued by it.
type fixture struct {
	pki   *pki.PKI
	trust *verify.TrustStore
	mdl   *credential.Credential
	mnc   *credential.Credential
}

var (
	fixtureOnce sync.Once
	fixtureVal  *fixture
	fixtureErr  error
)

func getFixture(t testing.TB) *fixture {
	t.Helper()
	fixtureOnce.Do(func() { fixtureVal, fixtureErr = newFixture() })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureVal
}

func newFixture() (*fixture, error) {
	now := time.Now()
	p, err := pki.New(pki.Options{Now: now, Country: "US"})
	if err != nil {
		return nil, err
	}
	issue := func(docType string, elems []credential.Element) (*credential.Credential, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return credential.Issue(credential.IssueOptions{
			DocType: docType, Elements: elems, DeviceKey: key,
			DSCert: p.DS, DSKey: p.DSKey, Signed: now.Add(-time.Hour),
		})
	}
	mdlElems, err := credential.MDL(credential.SampleOptions{Now: now, Country: "US"})
	if err != nil {
		return nil, err
	}
	mdl, err := issue(mdoc.DocTypeMDL, mdlElems)
	if err != nil {
		return nil, err
	}
	// The My Number card carries issuing_country JP, so its own PKI is Japanese.
	pjp, err := pki.New(pki.Options{Now: now, Country: "JP"})
	if err != nil {
		return nil, err
	}
	mncElems, err := credential.MyNumberCard(credential.SampleOptions{Now: now})
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	mnc, err := credential.Issue(credential.IssueOptions{
		DocType: mdoc.DocTypeMyNumberCard, Elements: mncElems, DeviceKey: key,
		DSCert: pjp.DS, DSKey: pjp.DSKey, Signed: now.Add(-time.Hour),
	})
	if err != nil {
		return nil, err
	}
	return &fixture{pki: p, trust: verify.NewTrustStore(p.IACA, pjp.IACA), mdl: mdl, mnc: mnc}, nil
}

// station is one rig reader opened through the PC/SC adapter, as the daemon
// and `idreader read` open it.
type station struct {
	rd   reader.Reader
	addr string
}

func openStation(t *testing.T) *station {
	t.Helper()
	return openBenchStation(t, rig.Require(t))
}

func requireRig(tb testing.TB) rig.Info { return rig.Require(tb) }

func openBenchStation(t testing.TB, info rig.Info) *station {
	t.Helper()
	prov, err := pcsc.New(pcsc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rd, err := prov.Open(ctx, info.Readers[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	return &station{rd: rd, addr: info.VPCD[0]}
}

// tapResult is what one tap produced on both sides.
type tapResult struct {
	out    *terminal.Outcome
	err    error
	wallet wallet.Report
}

// tap puts a wallet with cfg into the reader's field, runs one exchange
// with the terminal, and takes the wallet away again.
func (s *station) tap(t *testing.T, cfg wallet.Config, tcfg terminal.Config) tapResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cardCtx, leave := context.WithCancel(ctx)
	defer leave()
	prevDone := cfg.OnDone
	cfg.OnDone = func(r wallet.Report) {
		if prevDone != nil {
			prevDone(r)
		}
		leave()
	}
	w, err := wallet.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cardErr := make(chan error, 1)
	go func() { cardErr <- vpcd.Tap(cardCtx, s.addr, w) }()

	target, err := s.rd.Wait(ctx)
	if err != nil {
		t.Fatalf("waiting for the wallet: %v", err)
	}
	tcfg.Limits = terminal.NFCLimits(target.Limits())
	out, tapErr := terminal.Tap(ctx, target, tcfg)
	leave()
	if err := <-cardErr; err != nil && !errors.Is(err, vpcd.ErrDisconnected) {
		t.Errorf("card: %v", err)
	}
	// No wait for pcscd to see the wallet leave: the next card may enter
	// at once, as a phone that wobbles out of the field and back does.
	target.Close()
	return tapResult{out: out, err: tapErr, wallet: w.Report()}
}

func (f *fixture) terminalConfig(t testing.TB, profile string) terminal.Config {
	t.Helper()
	p, err := daemon.LookupRequestProfile(profile)
	if err != nil {
		t.Fatal(err)
	}
	return terminal.Config{
		Trust:      f.trust,
		Request:    p,
		ReaderAuth: &terminal.ReaderIdentity{Key: f.pki.ReaderKey, Chain: []*x509.Certificate{f.pki.Reader}},
	}
}
