package fetch

import (
	"crypto/x509"
	"errors"
	"time"

	"github.com/idreader/idreader/vical"
)

// VerifyVICAL is the default [VICALFunc]: package vical's Verify (Annex C:
// signer profile, chain to one of anchors, signature, dates) and its IACAs
// with their doc types, country and source ("VICAL <provider> <date>
// #<issueID>"). A VICAL whose only problem is being past its own
// nextUpdate is still returned, with its NextUpdate: the manager counts the
// source stale from then on (as past max_age), keeps its anchors, and the
// profile's revocation rule applies to their documents. Issued is the
// VICAL's date, so an older copy served later is refused.
func VerifyVICAL(data []byte, anchors []*x509.Certificate, now time.Time) (VICALResult, error) {
	v, err := vical.Verify(data, anchors, now)
	if v == nil {
		return VICALResult{}, err
	}
	if err != nil && !errors.Is(err, vical.ErrStale) {
		return VICALResult{}, err
	}
	certs, infos := v.Anchors("")
	out := make([]Anchor, len(certs))
	for i, c := range certs {
		out[i] = Anchor{Cert: c, Info: infos[i]}
	}
	return VICALResult{Anchors: out, Issued: v.Date, NextUpdate: v.NextUpdate}, nil
}
