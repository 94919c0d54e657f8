package vical

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/idreader/idreader/verify"
)

// oidVICALSigner is id-mdl-kp-VICALSigner (ISO/IEC 18013-5 Annex B, VICAL
// signer certificate: extendedKeyUsage 1.0.18013.5.1.8).
var oidVICALSigner = asn1.ObjectIdentifier{1, 0, 18013, 5, 1, 8}

// Verify decodes a VICAL and verifies it (ISO/IEC 18013-5 Annex C):
//
//   - the signer certificate, the first of the x5chain, has the VICAL
//     signer profile: extended key usage 1.0.18013.5.1.8, a signing key
//     usage (digitalSignature or contentCommitment: the production AAMVA
//     signer has only the latter), not a CA ([CodeProfile]);
//   - it chains, through the other certificates of the x5chain, to one of
//     anchors ([CodeUntrusted]), every certificate of the chain valid at
//     now ([CodeValidity]);
//   - the COSE_Sign1 signature verifies with its key over the payload as
//     received ([CodeSignature]);
//   - the VICAL is dated at or before now ([CodeValidity]) and its
//     nextUpdate, when present, is after now ([CodeStale]).
//
// Every problem found is reported, as [*Error] values joined (see
// [Problems]). On success the returned VICAL's entries can be trusted. When
// the only problem is [CodeStale], Verify returns the otherwise verified
// VICAL together with the error (errors.Is(err, ErrStale)), so that a
// caller with its own staleness budget may keep using it; any other problem
// returns a nil VICAL.
func Verify(data []byte, anchors []*x509.Certificate, now time.Time) (*VICAL, error) {
	v, err := Parse(data)
	if err != nil {
		return nil, err
	}
	var errs []error
	signer := v.Chain[0]
	if p := signerProfile(signer); p != nil {
		errs = append(errs, p)
	}
	if c := chain(v.Chain, anchors, now); c != nil {
		errs = append(errs, c)
	}
	if err := v.msg.VerifySignature(signer.PublicKey, v.msg.Payload); err != nil {
		errs = append(errs, errorf(CodeSignature, "%v", err))
	}
	if v.Date.After(now) {
		errs = append(errs, errorf(CodeValidity, "VICAL dated %s, after %s", rfc3339(v.Date), rfc3339(now)))
	}
	stale := !v.NextUpdate.IsZero() && !now.Before(v.NextUpdate)
	if stale {
		errs = append(errs, errorf(CodeStale, "nextUpdate %s is not after %s", rfc3339(v.NextUpdate), rfc3339(now)))
	}
	switch {
	case len(errs) == 0:
		return v, nil
	case len(errs) == 1 && stale:
		return v, errs[0]
	}
	return nil, errors.Join(errs...)
}

// signerProfile checks the VICAL signer certificate profile of Annex B.
func signerProfile(c *x509.Certificate) *Error {
	has := false
	for _, u := range c.UnknownExtKeyUsage {
		if u.Equal(oidVICALSigner) {
			has = true
		}
	}
	switch {
	case !has:
		return errorf(CodeProfile, "signer certificate %q lacks extended key usage 1.0.18013.5.1.8 (VICAL signer)", c.Subject.String())
	// A signing key: digitalSignature, or contentCommitment
	// (nonRepudiation), which is all the production AAMVA signer has.
	case c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0:
		return errorf(CodeProfile, "signer certificate %q key usage has neither digitalSignature nor contentCommitment", c.Subject.String())
	case c.BasicConstraintsValid && c.IsCA:
		return errorf(CodeProfile, "signer certificate %q is a CA", c.Subject.String())
	}
	return nil
}

// chain verifies that the signer chains to an anchor through the x5chain
// (RFC 5280 path validation by crypto/x509, every certificate valid at
// now). The extended key usage is checked by signerProfile, so any is
// accepted here.
func chain(certs, anchors []*x509.Certificate, now time.Time) *Error {
	if len(anchors) == 0 {
		return errorf(CodeUntrusted, "no VICAL anchor configured")
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, a := range anchors {
		roots.AddCert(a)
	}
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err == nil {
		return nil
	}
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		return errorf(CodeValidity, "signer chain: %v", err)
	}
	return errorf(CodeUntrusted, "signer chain: %v", err)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Source names the VICAL for [verify.AnchorInfo]: provider, date and issue
// ID, e.g. "VICAL AAMVA 2025-11-18 #227602".
func (v *VICAL) Source() string {
	s := "VICAL " + v.Provider + " " + v.Date.UTC().Format(time.DateOnly)
	if v.IssueID != nil {
		s += " #" + strconv.FormatUint(*v.IssueID, 10)
	}
	return s
}

// Anchors returns the IACA certificates of the entries with what the trust
// store should know of each: the source (source when not empty, else
// [VICAL.Source]), the doc types listed, the issuing country. A
// certificate listed twice appears once with the doc types of both
// entries. Only call it on a VICAL from [Verify].
func (v *VICAL) Anchors(source string) ([]*x509.Certificate, []verify.AnchorInfo) {
	if source == "" {
		source = v.Source()
	}
	var certs []*x509.Certificate
	var infos []verify.AnchorInfo
	seen := map[string]int{}
	for i := range v.Entries {
		e := &v.Entries[i]
		if j, ok := seen[string(e.Certificate.Raw)]; ok {
			for _, d := range e.DocTypes {
				if !slices.Contains(infos[j].DocTypes, d) {
					infos[j].DocTypes = append(infos[j].DocTypes, d)
				}
			}
			continue
		}
		seen[string(e.Certificate.Raw)] = len(certs)
		certs = append(certs, e.Certificate)
		infos = append(infos, verify.AnchorInfo{Source: source, DocTypes: slices.Clone(e.DocTypes), Country: e.Country()})
	}
	return certs, infos
}

// AddTo adds the IACAs of the entries to store with their metadata (see
// [VICAL.Anchors]). Only call it on a VICAL from [Verify].
func (v *VICAL) AddTo(store *verify.TrustStore, source string) {
	certs, infos := v.Anchors(source)
	for i, c := range certs {
		store.AddAnchors(infos[i], c)
	}
}
