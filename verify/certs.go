package verify

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Extended key usages of ISO/IEC 18013-5 Annex B (the 1.0.18013.5.1 arc).
var (
	// oidMdlDS is id-mdl-kp-mdlDS, the document signer EKU (Annex B, DS profile).
	oidMdlDS = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 2}
)

// findIACA returns the IACA of the store that signed ds. Annex B NOTE 1: the
// chain is exactly DS → IACA, so no intermediate is searched for (which
// x509.Verify would do). Only the signature is checked here, with
// CheckSignature rather than ds.CheckSignatureFrom: the latter also refuses a
// parent that is not a CA or lacks keyCertSign, which would report a
// profile violation of a trusted IACA as an untrusted issuer. Those rules are
// checked, and named, by checkIACAProfile. A verified signature is
// remembered by the store (chainCache). When more than one anchor signed it
// (the same key listed by two sources), one whose AnchorInfo allows docType
// is preferred; whether the one returned may issue docType is the separate
// check anchor_doctype.
func findIACA(store *TrustStore, ds *x509.Certificate, docType string) (*x509.Certificate, error) {
	cands := store.candidates(ds)
	if len(cands) == 0 {
		return nil, fmt.Errorf("%w: no IACA in the trust store for issuer %q", ErrIssuerUntrusted, ds.Issuer.String())
	}
	var last error
	var signer *x509.Certificate
	for _, ca := range cands {
		if !store.cache.verified(ds, ca) {
			if err := ca.CheckSignature(ds.SignatureAlgorithm, ds.RawTBSCertificate, ds.Signature); err != nil {
				last = err
				continue
			}
			store.cache.add(ds, ca)
		}
		if store.info[string(ca.Raw)].allows(docType) {
			return ca, nil
		}
		if signer == nil {
			signer = ca
		}
	}
	if signer != nil {
		return signer, nil
	}
	return nil, fmt.Errorf("%w: DS certificate not signed by IACA %q: %v", ErrIssuerUntrusted, ds.Issuer.String(), last)
}

// checkDSProfile applies the document signer certificate profile of ISO/IEC
// 18013-5 Annex B (DS certificate table). Only the rules that decide trust
// are enforced; SKI/AKI presence, CRL distribution point form and
// IssuerAltName are not (the published Annex D DS uses a DNS name as CRL
// distribution point).
func checkDSProfile(ds *x509.Certificate) error {
	var errs []error
	// Annex B, DS: extendedKeyUsage = 1.0.18013.5.1.2 (mdlDS).
	if !hasEKU(ds, oidMdlDS) {
		errs = append(errs, fmt.Errorf("DS certificate lacks extended key usage 1.0.18013.5.1.2 (mdlDS)"))
	}
	// Annex B, DS: keyUsage = digitalSignature.
	if ds.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		errs = append(errs, fmt.Errorf("DS certificate key usage lacks digitalSignature"))
	}
	// Annex B, DS: an end-entity certificate, never a CA.
	if ds.BasicConstraintsValid && ds.IsCA {
		errs = append(errs, fmt.Errorf("DS certificate is a CA"))
	}
	// RFC 5280 section 4.2: a critical extension that is not understood fails.
	if len(ds.UnhandledCriticalExtensions) > 0 {
		errs = append(errs, fmt.Errorf("DS certificate has unhandled critical extension %v", ds.UnhandledCriticalExtensions[0]))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrCertificateProfile, errors.Join(errs...))
}

// checkIACAProfile applies the IACA root certificate profile of Annex B as far
// as trust depends on it: basicConstraints present with cA TRUE, keyUsage
// present with keyCertSign. Each violated rule is named in the error.
func checkIACAProfile(iaca *x509.Certificate) error {
	var errs []error
	// Annex B, IACA: basicConstraints, critical, cA = TRUE.
	switch {
	case !iaca.BasicConstraintsValid:
		errs = append(errs, fmt.Errorf("IACA certificate has no basicConstraints (Annex B: cA TRUE required)"))
	case !iaca.IsCA:
		errs = append(errs, fmt.Errorf("IACA certificate basicConstraints cA is FALSE (Annex B: cA TRUE required)"))
	}
	// Annex B, IACA: keyUsage keyCertSign (and cRLSign).
	switch {
	case iaca.KeyUsage == 0:
		errs = append(errs, fmt.Errorf("IACA certificate has no keyUsage (Annex B: keyCertSign required)"))
	case iaca.KeyUsage&x509.KeyUsageCertSign == 0:
		errs = append(errs, fmt.Errorf("IACA certificate keyUsage lacks keyCertSign (Annex B: keyCertSign required)"))
	}
	if len(iaca.UnhandledCriticalExtensions) > 0 {
		errs = append(errs, fmt.Errorf("IACA certificate has unhandled critical extension %v", iaca.UnhandledCriticalExtensions[0]))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrCertificateProfile, errors.Join(errs...))
}

// checkCountries: Annex B requires the DS countryName to equal the IACA's,
// and stateOrProvinceName too when either certificate has one.
func checkCountries(ds, iaca *x509.Certificate) error {
	dc, ic := country(ds), country(iaca)
	if dc == "" || dc != ic {
		return fmt.Errorf("%w: DS country %q differs from IACA country %q", ErrCertificateProfile, dc, ic)
	}
	ds1, is1 := strings.Join(ds.Subject.Province, ","), strings.Join(iaca.Subject.Province, ",")
	if ds1 != is1 {
		return fmt.Errorf("%w: DS stateOrProvinceName %q differs from IACA %q", ErrCertificateProfile, ds1, is1)
	}
	return nil
}

// checkValidity: the certificate's validity period contains now (RFC 5280
// section 6.1.3 (a)(2); 18013-5 clause 9.3.1).
func checkValidity(c *x509.Certificate, role string, now time.Time) error {
	if now.Before(c.NotBefore) {
		return fmt.Errorf("%w: %s certificate not valid before %s", ErrCertificateValidity, role, c.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(c.NotAfter) {
		return fmt.Errorf("%w: %s certificate expired %s", ErrCertificateValidity, role, c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

func hasEKU(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, u := range c.UnknownExtKeyUsage {
		if u.Equal(oid) {
			return true
		}
	}
	return false
}

func country(c *x509.Certificate) string {
	if len(c.Subject.Country) != 1 {
		return ""
	}
	return c.Subject.Country[0]
}
