package identity

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// OIDReaderAuth is id-mdl-kp-mdlReaderAuth, the extended key usage of a
// reader authentication certificate (ISO/IEC 18013-5 Annex B, reader
// authentication certificate: 1.0.18013.5.1.6).
var OIDReaderAuth = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 6}

// Errors of [CheckCertificate]; the error it returns wraps one of them.
var (
	// ErrKeyMismatch: the certificate is not for the reader's key.
	ErrKeyMismatch = errors.New("identity: certificate is not for this key")
	// ErrProfile: the certificate breaks the reader authentication profile.
	ErrProfile = errors.New("identity: certificate breaks the reader authentication profile")
	// ErrValidity: the certificate is not valid at the given time.
	ErrValidity = errors.New("identity: certificate not valid")
)

// NewKey makes a reader authentication key on P-256, the curve every mdoc
// supports for reader authentication (clause 9.1.5.2).
func NewKey(rand io.Reader) (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, fmt.Errorf("identity: making key: %w", err)
	}
	return k, nil
}

// NewRequest returns a PKCS #10 certificate signing request (DER) for key
// with subject commonName cn and, when country is not empty, countryName
// country (an ISO 3166-1 alpha-2 code, as Annex B asks of reader
// certificates' issuers and subjects).
func NewRequest(rand io.Reader, key crypto.Signer, cn, country string) ([]byte, error) {
	if strings.TrimSpace(cn) == "" {
		return nil, errors.New("identity: empty common name")
	}
	if country != "" && (len(country) != 2 || strings.ToUpper(country) != country || strings.IndexFunc(country, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0) {
		return nil, fmt.Errorf("identity: country %q is not an upper-case ISO 3166-1 alpha-2 code", country)
	}
	subject := pkix.Name{CommonName: cn}
	if country != "" {
		subject.Country = []string{country}
	}
	der, err := x509.CreateCertificateRequest(rand, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		return nil, fmt.Errorf("identity: making request: %w", err)
	}
	return der, nil
}

// CheckCertificate checks that cert (the leaf of the chain a reader CA
// returned) is for key, fits the Annex B reader authentication profile
// ([CheckProfile]) and is valid at now. Every problem found is reported,
// joined.
func CheckCertificate(cert *x509.Certificate, key crypto.PublicKey, now time.Time) error {
	errs := []error{CheckProfile(cert, key)}
	if now.Before(cert.NotBefore) {
		errs = append(errs, fmt.Errorf("%w: not valid before %s", ErrValidity, cert.NotBefore.UTC().Format(time.RFC3339)))
	}
	if now.After(cert.NotAfter) {
		errs = append(errs, fmt.Errorf("%w: expired %s", ErrValidity, cert.NotAfter.UTC().Format(time.RFC3339)))
	}
	return errors.Join(errs...)
}

// CheckProfile checks that cert is for key and fits the Annex B reader
// authentication profile: keyUsage digitalSignature, not a CA, extended
// key usage 1.0.18013.5.1.6, no critical extension left unhandled. It does
// not look at the validity period.
func CheckProfile(cert *x509.Certificate, key crypto.PublicKey) error {
	var errs []error
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if k, ok := cert.PublicKey.(equaler); !ok || !k.Equal(key) {
		errs = append(errs, fmt.Errorf("%w: its public key differs from the reader key", ErrKeyMismatch))
	}
	if cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		errs = append(errs, fmt.Errorf("%w: key usage lacks digitalSignature", ErrProfile))
	}
	if cert.BasicConstraintsValid && cert.IsCA {
		errs = append(errs, fmt.Errorf("%w: it is a CA certificate", ErrProfile))
	}
	has := false
	for _, u := range cert.UnknownExtKeyUsage {
		if u.Equal(OIDReaderAuth) {
			has = true
		}
	}
	if !has {
		errs = append(errs, fmt.Errorf("%w: extended key usage lacks 1.0.18013.5.1.6 (mdoc reader authentication)", ErrProfile))
	}
	if len(cert.UnhandledCriticalExtensions) > 0 {
		errs = append(errs, fmt.Errorf("%w: unhandled critical extension %v", ErrProfile, cert.UnhandledCriticalExtensions[0]))
	}
	return errors.Join(errs...)
}
