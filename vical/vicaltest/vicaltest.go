// Package vicaltest makes VICALs (ISO/IEC 18013-5 Annex C) for tests: a
// small VICAL PKI (root and signer) and a signer of lists of IACAs.
package vicaltest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/cose"
	"github.com/idreader/idreader/mdoc"
)

// OIDVICALSigner is the VICAL signer extended key usage 1.0.18013.5.1.8.
var OIDVICALSigner = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 8}

// Options shape a [PKI].
type Options struct {
	// NoEKU leaves the VICAL signer EKU out of the signer certificate.
	NoEKU bool
	// NotBefore and NotAfter bound the signer certificate; zero means
	// 2020-01-01 and 2040-01-01.
	NotBefore, NotAfter time.Time
}

// PKI is a VICAL provider's PKI: a root (the anchor) and a signer it
// certified.
type PKI struct {
	Root      *x509.Certificate
	RootKey   *ecdsa.PrivateKey
	Signer    *x509.Certificate
	SignerKey *ecdsa.PrivateKey
}

// NewPKI makes a P-256 root and a VICAL signer certificate under it.
func NewPKI(rand io.Reader, o Options) (*PKI, error) {
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	p := &PKI{}
	var err error
	if p.RootKey, err = ecdsa.GenerateKey(elliptic.P256(), rand); err != nil {
		return nil, err
	}
	if p.SignerKey, err = ecdsa.GenerateKey(elliptic.P256(), rand); err != nil {
		return nil, err
	}
	root := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Country: []string{"UT"}, CommonName: "test VICAL root"},
		NotBefore: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand, root, root, &p.RootKey.PublicKey, p.RootKey)
	if err != nil {
		return nil, err
	}
	if p.Root, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	signer := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{Country: []string{"UT"}, CommonName: "test VICAL signer"},
		NotBefore: o.NotBefore, NotAfter: o.NotAfter, KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	if !o.NoEKU {
		signer.UnknownExtKeyUsage = []asn1.ObjectIdentifier{OIDVICALSigner}
	}
	if der, err = x509.CreateCertificate(rand, signer, p.Root, &p.SignerKey.PublicKey, p.RootKey); err != nil {
		return nil, err
	}
	if p.Signer, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	return p, nil
}

// Entry is one IACA of a [List].
type Entry struct {
	Certificate *x509.Certificate
	DocTypes    []string
	Country     string // issuingCountry; empty leaves it out
}

// List is the content of a VICAL.
type List struct {
	Provider   string
	Date       time.Time
	NextUpdate time.Time // zero leaves it out
	IssueID    uint64
	Entries    []Entry
}

func tdate(t time.Time) cbor.Tag {
	return cbor.Tag{Number: 0, Content: t.UTC().Format(time.RFC3339)}
}

// Payload encodes l as a VICAL payload (Annex C.1.7).
func (l List) Payload() ([]byte, error) {
	infos := make([]map[string]any, len(l.Entries))
	for i, e := range l.Entries {
		m := map[string]any{
			"certificate":  e.Certificate.Raw,
			"serialNumber": e.Certificate.SerialNumber,
			"ski":          e.Certificate.SubjectKeyId,
			"docType":      e.DocTypes,
			"notBefore":    tdate(e.Certificate.NotBefore),
			"notAfter":     tdate(e.Certificate.NotAfter),
		}
		if e.Certificate.SubjectKeyId == nil {
			m["ski"] = []byte{}
		}
		if e.Country != "" {
			m["issuingCountry"] = e.Country
		}
		infos[i] = m
	}
	v := map[string]any{
		"version": "1.0", "vicalProvider": l.Provider, "date": tdate(l.Date),
		"vicalIssueID": l.IssueID, "certificateInfos": infos,
	}
	if !l.NextUpdate.IsZero() {
		v["nextUpdate"] = tdate(l.NextUpdate)
	}
	out, err := mdoc.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("vicaltest: encoding VICAL: %w", err)
	}
	return out, nil
}

// Sign returns l signed by the PKI's signer, as a COSE_Sign1 with the
// x5chain [signer, root].
func (p *PKI) Sign(rand io.Reader, l List) ([]byte, error) {
	payload, err := l.Payload()
	if err != nil {
		return nil, err
	}
	return cose.Sign1(rand, p.SignerKey, payload, cose.SignOptions{X5Chain: [][]byte{p.Signer.Raw, p.Root.Raw}})
}
