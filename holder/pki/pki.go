package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// Extended key usages of ISO/IEC 18013-5 Annex B (the 1.0.18013.5.1 arc).
var (
	// OIDExtKeyUsageDocumentSigner marks a Document Signer certificate (B.1.4).
	OIDExtKeyUsageDocumentSigner = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 2}
	// OIDExtKeyUsageReaderAuth marks an mdoc reader authentication
	// certificate (B.1.7).
	OIDExtKeyUsageReaderAuth = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 6}
)

// X.509 extension identifiers this package writes itself (RFC 5280 4.2.1.7,
// 4.2.1.12).
var (
	oidExtIssuerAltName = asn1.ObjectIdentifier{2, 5, 29, 18}
	oidExtExtKeyUsage   = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// Default names and URLs of the test PKI. The .invalid top-level domain
// (RFC 2606) guarantees nobody ever fetches them.
const (
	DefaultCountry      = "US"
	DefaultOrganization = "idreader test PKI"
	defaultBaseURL      = "https://pki.idreader.invalid/"
)

// Options configures [New]. Zero values take the defaults documented on
// each field.
type Options struct {
	// Rand is the source of key material and serial numbers; nil means
	// crypto/rand.Reader.
	Rand io.Reader
	// Now anchors every validity period; zero means time.Now().
	Now time.Time
	// Country is the ISO 3166-1 alpha-2 countryName of the IACA and the
	// Document Signer (Annex B requires both to carry the same one);
	// empty means DefaultCountry.
	Country string
	// StateOrProvince is an optional stateOrProvinceName, written into the
	// IACA and the Document Signer alike (AAMVA profile).
	StateOrProvince string
	// Organization is the organizationName of every certificate; empty
	// means DefaultOrganization.
	Organization string
	// Curve is the curve of every key; nil means P-256. P-384 and P-521
	// are accepted too.
	Curve elliptic.Curve
}

// PKI is one complete test PKI: the issuing side (IACA → DS) and the
// reader-authentication side (reader root → reader).
type PKI struct {
	IACA       *x509.Certificate // trust anchor of the mdoc issuer (Annex B.1.2)
	DS         *x509.Certificate // Document Signer, signed by IACA (Annex B.1.4)
	ReaderRoot *x509.Certificate // root of the reader certificates
	Reader     *x509.Certificate // reader authentication certificate (B.1.7)

	IACAKey       *ecdsa.PrivateKey
	DSKey         *ecdsa.PrivateKey
	ReaderRootKey *ecdsa.PrivateKey
	ReaderKey     *ecdsa.PrivateKey

	// rand and now are the options New was called with, kept for
	// NewDocumentSigner; after Load they are crypto/rand and zero.
	rand io.Reader
	now  time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Country == "" {
		o.Country = DefaultCountry
	}
	if len(o.Country) != 2 {
		return o, fmt.Errorf("pki: country %q is not an alpha-2 code", o.Country)
	}
	if o.Organization == "" {
		o.Organization = DefaultOrganization
	}
	if o.Curve == nil {
		o.Curve = elliptic.P256()
	}
	switch o.Curve {
	case elliptic.P256(), elliptic.P384(), elliptic.P521():
	default:
		return o, fmt.Errorf("pki: unsupported curve %s", o.Curve.Params().Name)
	}
	return o, nil
}

// New generates a fresh test PKI. Validity periods: IACA and reader root
// now-1y .. now+10y; Document Signer and reader certificate now-1d .. now+1y.
func New(opts Options) (*PKI, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &PKI{rand: o.Rand, now: o.Now}
	now := o.Now.UTC().Truncate(time.Second)

	iacaName := name(o.Country, o.StateOrProvince, o.Organization, "idreader test IACA")
	p.IACA, p.IACAKey, err = makeCert(o.Rand, o.Curve, certSpec{
		subject:   iacaName,
		notBefore: now.AddDate(-1, 0, 0),
		notAfter:  now.AddDate(10, 0, 0),
		ca:        true,
		keyUsage:  x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		altURI:    defaultBaseURL + "iaca",
		crlURI:    defaultBaseURL + "crl/iaca.crl",
	}, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("making IACA: %w", err)
	}
	p.DS, p.DSKey, err = NewDocumentSigner(p, DSOptions{})
	if err != nil {
		return nil, err
	}

	rootName := name(o.Country, "", o.Organization, "idreader test reader root")
	p.ReaderRoot, p.ReaderRootKey, err = makeCert(o.Rand, o.Curve, certSpec{
		subject:   rootName,
		notBefore: now.AddDate(-1, 0, 0),
		notAfter:  now.AddDate(10, 0, 0),
		ca:        true,
		keyUsage:  x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		altURI:    defaultBaseURL + "reader-root",
		crlURI:    defaultBaseURL + "crl/reader-root.crl",
	}, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("making reader root: %w", err)
	}
	p.Reader, p.ReaderKey, err = makeCert(o.Rand, o.Curve, certSpec{
		subject:   name(o.Country, "", o.Organization, "idreader test reader"),
		notBefore: now.AddDate(0, 0, -1),
		notAfter:  now.AddDate(1, 0, 0),
		keyUsage:  x509.KeyUsageDigitalSignature,
		eku:       []asn1.ObjectIdentifier{OIDExtKeyUsageReaderAuth},
		altURI:    defaultBaseURL + "reader-root",
		crlURI:    defaultBaseURL + "crl/reader-root.crl",
	}, p.ReaderRoot, p.ReaderRootKey)
	if err != nil {
		return nil, fmt.Errorf("making reader certificate: %w", err)
	}
	return p, nil
}

// DSOptions configures [NewDocumentSigner]. The zero value gives a
// conforming Document Signer (Annex B.1.4); the other fields make faulty
// ones for negative tests.
type DSOptions struct {
	// Rand overrides the PKI's randomness; nil uses it.
	Rand io.Reader
	// OmitEKU leaves out the 1.0.18013.5.1.2 extended key usage.
	OmitEKU bool
	// Country overrides the countryName (Annex B requires it to equal the
	// IACA's; set a different one to break that rule).
	Country string
	// StateOrProvince overrides the stateOrProvinceName; "-" removes it.
	StateOrProvince string
	// NotBefore and NotAfter override the validity (default now-1d ..
	// now+1y, clamped to the IACA's validity).
	NotBefore, NotAfter time.Time
	// CA makes the certificate a CA (basicConstraints CA:true), which a DS
	// must not be.
	CA bool
	// Curve overrides the key curve; nil uses the IACA's.
	Curve elliptic.Curve
}

// NewDocumentSigner issues a Document Signer certificate from p.IACA per
// ISO/IEC 18013-5 Annex B.1.4: keyUsage digitalSignature (critical), EKU
// 1.0.18013.5.1.2 (critical), AKI = IACA SKI, SKI, the IACA's country (and
// state), CRL distribution point and issuerAltName. It does not change p.
func NewDocumentSigner(p *PKI, opts DSOptions) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if p == nil || p.IACA == nil || p.IACAKey == nil {
		return nil, nil, errors.New("pki: document signer needs an IACA certificate and key")
	}
	r := opts.Rand
	if r == nil {
		r = p.rand
	}
	if r == nil {
		r = rand.Reader
	}
	now := p.now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)

	country, state, org := "", "", ""
	if v := p.IACA.Subject.Country; len(v) > 0 {
		country = v[0]
	}
	if v := p.IACA.Subject.Province; len(v) > 0 {
		state = v[0]
	}
	if v := p.IACA.Subject.Organization; len(v) > 0 {
		org = v[0]
	}
	if opts.Country != "" {
		country = opts.Country
	}
	switch opts.StateOrProvince {
	case "":
	case "-":
		state = ""
	default:
		state = opts.StateOrProvince
	}
	nb, na := now.AddDate(0, 0, -1), now.AddDate(1, 0, 0)
	if nb.Before(p.IACA.NotBefore) {
		nb = p.IACA.NotBefore
	}
	if na.After(p.IACA.NotAfter) {
		na = p.IACA.NotAfter
	}
	if !opts.NotBefore.IsZero() {
		nb = opts.NotBefore
	}
	if !opts.NotAfter.IsZero() {
		na = opts.NotAfter
	}
	curve := opts.Curve
	if curve == nil {
		curve = p.IACAKey.Curve
	}
	spec := certSpec{
		subject:   name(country, state, org, "idreader test DS"),
		notBefore: nb,
		notAfter:  na,
		ca:        opts.CA,
		keyUsage:  x509.KeyUsageDigitalSignature,
		altName:   issuerAltNameOf(p.IACA),
		crlURI:    crlURI(p.IACA),
	}
	if !opts.OmitEKU {
		spec.eku = []asn1.ObjectIdentifier{OIDExtKeyUsageDocumentSigner}
	}
	cert, key, err := makeCert(r, curve, spec, p.IACA, p.IACAKey)
	if err != nil {
		return nil, nil, fmt.Errorf("making document signer: %w", err)
	}
	return cert, key, nil
}

// issuerAltNameOf returns the DER value of issuer's own issuerAltName
// extension: a certificate the IACA signs names the same issuer.
func issuerAltNameOf(issuer *x509.Certificate) []byte {
	for _, e := range issuer.Extensions {
		if e.Id.Equal(oidExtIssuerAltName) {
			return e.Value
		}
	}
	return nil
}

func crlURI(issuer *x509.Certificate) string {
	if len(issuer.CRLDistributionPoints) > 0 {
		return issuer.CRLDistributionPoints[0]
	}
	return defaultBaseURL + "crl/iaca.crl"
}

func name(country, state, org, cn string) pkix.Name {
	n := pkix.Name{CommonName: cn}
	if country != "" {
		n.Country = []string{country}
	}
	if state != "" {
		n.Province = []string{state}
	}
	if org != "" {
		n.Organization = []string{org}
	}
	return n
}

type certSpec struct {
	subject             pkix.Name
	notBefore, notAfter time.Time
	ca                  bool
	keyUsage            x509.KeyUsage
	eku                 []asn1.ObjectIdentifier
	altURI              string // issuerAltName URI
	altName             []byte // issuerAltName DER value, used instead of altURI
	crlURI              string // CRL distribution point URI
}

// makeCert generates a key on curve and a certificate for it, signed by
// parent/parentKey, or self-signed when parent is nil.
func makeCert(r io.Reader, curve elliptic.Curve, s certSpec, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(curve, r)
	if err != nil {
		return nil, nil, fmt.Errorf("generating key: %w", err)
	}
	serial, err := randomSerial(r)
	if err != nil {
		return nil, nil, err
	}
	ski, err := subjectKeyID(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               s.subject,
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		KeyUsage:              s.keyUsage, // Go always marks keyUsage critical.
		BasicConstraintsValid: true,       // Go always marks basicConstraints critical.
		IsCA:                  s.ca,
		SubjectKeyId:          ski,
	}
	if s.ca {
		// Annex B.1.2: pathLenConstraint 0, the IACA signs only leaves.
		tmpl.MaxPathLen = 0
		tmpl.MaxPathLenZero = true
	}
	if s.crlURI != "" {
		tmpl.CRLDistributionPoints = []string{s.crlURI}
	}
	if len(s.eku) > 0 {
		// crypto/x509 writes extKeyUsage non-critical; Annex B wants it
		// critical, so the extension is written by hand (ExtraExtensions
		// replaces the generated one).
		v, err := asn1.Marshal(s.eku)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding extKeyUsage: %w", err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidExtExtKeyUsage, Critical: true, Value: v})
	}
	if len(s.altName) > 0 {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidExtIssuerAltName, Value: s.altName})
	} else if s.altURI != "" {
		// GeneralNames ::= SEQUENCE OF GeneralName; uniformResourceIdentifier [6] IA5String.
		v, err := asn1.Marshal([]asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(s.altURI)}})
		if err != nil {
			return nil, nil, fmt.Errorf("encoding issuerAltName: %w", err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidExtIssuerAltName, Value: v})
	}
	signer := crypto.Signer(key)
	if parent == nil {
		parent = tmpl
	} else {
		signer = parentKey
		tmpl.AuthorityKeyId = parent.SubjectKeyId
	}
	der, err := x509.CreateCertificate(r, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing new certificate: %w", err)
	}
	return cert, key, nil
}

func randomSerial(r io.Reader) (*big.Int, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return nil, fmt.Errorf("reading serial number: %w", err)
	}
	b[0] &= 0x7f // positive
	b[0] |= 0x40 // and exactly 16 bytes long
	return new(big.Int).SetBytes(b[:]), nil
}

// subjectKeyID is method (1) of RFC 5280 4.2.1.2: SHA-1 over the
// subjectPublicKey BIT STRING value.
func subjectKeyID(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("decoding public key: %w", err)
	}
	h := sha1.Sum(spki.PublicKey.Bytes)
	return h[:], nil
}
