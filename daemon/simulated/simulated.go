package simulated

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/policy"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// IdentityName is the name of the reader identity in Settings.
const IdentityName = "demo-reader"

// World is a simulated issuing world.
type World struct {
	Now time.Time
	// US issues mDLs, JP the My Number card; US also holds the reader
	// authentication root and certificate.
	US, JP *pki.PKI
	Trust  *verify.TrustStore
	// Adult is an mDL of a holder over 21, Minor one of a 17-year-old, MNC
	// a My Number card of an adult.
	Adult, Minor, MNC *credential.Credential
	// Identity is the reader's authentication certificate and key.
	Identity *terminal.ReaderIdentity
}

// New issues a world at time now.
func New(now time.Time) (*World, error) {
	w := &World{Now: now}
	var err error
	if w.US, err = pki.New(pki.Options{Now: now, Country: "US"}); err != nil {
		return nil, fmt.Errorf("making the US test PKI: %w", err)
	}
	if w.JP, err = pki.New(pki.Options{Now: now, Country: "JP"}); err != nil {
		return nil, fmt.Errorf("making the JP test PKI: %w", err)
	}
	w.Trust = verify.NewTrustStore(w.US.IACA, w.JP.IACA)
	w.Identity = &terminal.ReaderIdentity{Key: w.US.ReaderKey, Chain: []*x509.Certificate{w.US.Reader}}
	if w.Adult, err = w.issue(w.US, mdoc.DocTypeMDL, credential.MDL, credential.SampleOptions{Now: now, Country: "US"}); err != nil {
		return nil, err
	}
	minor := credential.SampleOptions{Now: now, Country: "US", BirthDate: now.AddDate(-17, 0, 0)}
	if w.Minor, err = w.issue(w.US, mdoc.DocTypeMDL, credential.MDL, minor); err != nil {
		return nil, err
	}
	if w.MNC, err = w.issue(w.JP, mdoc.DocTypeMyNumberCard, credential.MyNumberCard, credential.SampleOptions{Now: now}); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *World) issue(p *pki.PKI, docType string, sample func(credential.SampleOptions) ([]credential.Element, error), o credential.SampleOptions) (*credential.Credential, error) {
	els, err := sample(o)
	if err != nil {
		return nil, fmt.Errorf("making a sample %s: %w", docType, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	c, err := credential.Issue(credential.IssueOptions{
		DocType: docType, Elements: els, DeviceKey: key,
		DSCert: p.DS, DSKey: p.DSKey, Signed: w.Now.Add(-time.Hour),
	})
	if err != nil {
		return nil, fmt.Errorf("issuing a sample %s: %w", docType, err)
	}
	return c, nil
}

// Wallet returns a simulated wallet holding creds (static handover, device
// signature unless cfg says otherwise; cfg.Credentials is replaced).
func (w *World) Wallet(cfg wallet.Config, creds ...*credential.Credential) (*wallet.Wallet, error) {
	cfg.Credentials = creds
	return wallet.New(cfg)
}

// Settings returns daemon settings with the built-in profiles, the world's
// trust anchors and reader identity (IdentityName), and profile as the
// default of each reader in readers.
func (w *World) Settings(profile string, readers ...string) *daemon.Settings {
	s := &daemon.Settings{
		Profiles:         policy.Builtin(),
		Trust:            w.Trust,
		Identities:       map[string]*terminal.ReaderIdentity{IdentityName: w.Identity},
		ReaderProfiles:   map[string]string{},
		ReaderIdentities: map[string]string{},
	}
	for _, r := range readers {
		s.ReaderProfiles[r] = profile
		s.ReaderIdentities[r] = IdentityName
	}
	return s
}

// DemoWallets returns the two wallets of the demo, for profile age-21: an
// adult's mDL over negotiated handover (accepted) and a 17-year-old's mDL
// over static handover (rejected: age_not_met).
func (w *World) DemoWallets() ([]*wallet.Wallet, error) {
	accept, err := w.Wallet(wallet.Config{Handover: wallet.HandoverNegotiated}, w.Adult)
	if err != nil {
		return nil, err
	}
	reject, err := w.Wallet(wallet.Config{}, w.Minor)
	if err != nil {
		return nil, err
	}
	return []*wallet.Wallet{accept, reject}, nil
}

// DemoBLEWallets returns the wallets of a simulated reader with the
// simulated BLE radio, for profile age-21: like DemoWallets, but both
// select BLE only in negotiated handover (as Apple Wallet does), the adult's
// in mdoc central client mode (the reader advertises), the minor's in
// peripheral server mode (the wallet advertises), so the two alternate
// between the two BLE roles. Run each wallet's ServeBLE on the link the
// reader's BLEConfig uses.
func (w *World) DemoBLEWallets() ([]*wallet.Wallet, error) {
	accept, err := w.Wallet(wallet.Config{Handover: wallet.HandoverNegotiated, OfferBLE: true, BLEOnly: true, BLEMode: ble.ModeCentralClient}, w.Adult)
	if err != nil {
		return nil, err
	}
	reject, err := w.Wallet(wallet.Config{Handover: wallet.HandoverNegotiated, OfferBLE: true, BLEOnly: true, BLEMode: ble.ModePeripheralServer}, w.Minor)
	if err != nil {
		accept.Close()
		return nil, err
	}
	return []*wallet.Wallet{accept, reject}, nil
}
