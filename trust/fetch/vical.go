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
// nextUpdate is still used: the source's max_age is the staleness budget,
// and past it the profile's revocation rule applies to its anchors'
// documents. The time returned is the VICAL's date, so an older copy
// served later is refused.
func VerifyVICAL(data []byte, anchors []*x509.Certificate, now time.Time) ([]Anchor, time.Time, error) {
	v, err := vical.Verify(data, anchors, now)
	if v == nil {
		return nil, time.Time{}, err
	}
	if err != nil && !errors.Is(err, vical.ErrStale) {
		return nil, time.Time{}, err
	}
	certs, infos := v.Anchors("")
	out := make([]Anchor, len(certs))
	for i, c := range certs {
		out[i] = Anchor{Cert: c, Info: infos[i]}
	}
	return out, v.Date, nil
}
