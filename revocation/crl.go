package revocation

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/idreader/idreader/verify"
)

// Errors of this package; every error wraps one of them.
var (
	// ErrMalformed: the input does not parse as what it should be.
	ErrMalformed = errors.New("revocation: malformed input")
	// ErrSignature: a signature does not verify, or no known issuer made it.
	ErrSignature = errors.New("revocation: signature not verified")
)

// maxCRLSize bounds a CRL accepted for parsing (a CRL of a million serials
// is about 40 MB; no IACA issues that many document signers).
const maxCRLSize = 32 << 20

// CRL is a certificate revocation list whose signature verified against
// the IACA that issued it. The revoked serial numbers are indexed at
// construction, so [CRL.Revoked] is a map lookup.
type CRL struct {
	// Issuer is the IACA certificate whose key signed the CRL.
	Issuer *x509.Certificate
	// ThisUpdate and NextUpdate are the CRL's validity (RFC 5280 section
	// 5.1.2.4, 5.1.2.5); NextUpdate is zero when the CRL has none.
	ThisUpdate, NextUpdate time.Time
	// Number is the cRLNumber extension, nil when absent.
	Number *big.Int
	// Entries is the number of revoked certificates listed.
	Entries int

	revoked map[string]struct{}
}

// ParseCRL reads a CRL in DER, PEM ("X509 CRL" block) or hex text of DER.
// It does not verify the signature: see [VerifyCRL].
func ParseCRL(data []byte) (*x509.RevocationList, error) {
	if len(data) > maxCRLSize {
		return nil, fmt.Errorf("%w: CRL of %d bytes", ErrMalformed, len(data))
	}
	der := data
	if bytes.Contains(data, []byte("-----BEGIN")) {
		der = nil
		rest := data
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type == "X509 CRL" {
				der = blk.Bytes
				break
			}
		}
		if der == nil {
			return nil, fmt.Errorf("%w: no X509 CRL block in PEM input", ErrMalformed)
		}
	} else if h, ok := verify.DecodeHexText(data); ok {
		der = h
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%w: CRL: %v", ErrMalformed, err)
	}
	return rl, nil
}

// VerifyCRL checks that one of issuers signed rl (the candidates are those
// whose subject is the CRL's issuer and, when both are present, whose
// subject key identifier is its authority key identifier) and indexes its
// revoked serials. A CRL no issuer signed is an error wrapping
// ErrSignature and must never be used.
func VerifyCRL(rl *x509.RevocationList, issuers []*x509.Certificate) (*CRL, error) {
	if rl == nil {
		return nil, fmt.Errorf("%w: no CRL", ErrMalformed)
	}
	var lastErr error
	for _, c := range issuers {
		if c == nil || !bytes.Equal(c.RawSubject, rl.RawIssuer) {
			continue
		}
		if len(rl.AuthorityKeyId) > 0 && len(c.SubjectKeyId) > 0 && !bytes.Equal(rl.AuthorityKeyId, c.SubjectKeyId) {
			continue
		}
		if err := rl.CheckSignatureFrom(c); err != nil {
			lastErr = err
			continue
		}
		out := &CRL{Issuer: c, ThisUpdate: rl.ThisUpdate, NextUpdate: rl.NextUpdate, Number: rl.Number,
			Entries: len(rl.RevokedCertificateEntries), revoked: make(map[string]struct{}, len(rl.RevokedCertificateEntries))}
		for _, e := range rl.RevokedCertificateEntries {
			if e.SerialNumber != nil {
				out.revoked[string(e.SerialNumber.Bytes())] = struct{}{}
			}
		}
		return out, nil
	}
	if lastErr != nil {
		return nil, fmt.Errorf("%w: CRL of %s: %v", ErrSignature, rl.Issuer, lastErr)
	}
	return nil, fmt.Errorf("%w: CRL of %s: no trusted IACA issued it", ErrSignature, rl.Issuer)
}

// LoadCRL is [ParseCRL] then [VerifyCRL].
func LoadCRL(data []byte, issuers []*x509.Certificate) (*CRL, error) {
	rl, err := ParseCRL(data)
	if err != nil {
		return nil, err
	}
	return VerifyCRL(rl, issuers)
}

// Revoked reports whether the certificate with this serial number is on
// the list. Negative serials (not allowed by RFC 5280) are never listed.
func (c *CRL) Revoked(serial *big.Int) bool {
	if c == nil || serial == nil || serial.Sign() < 0 {
		return false
	}
	_, ok := c.revoked[string(serial.Bytes())]
	return ok
}

// FreshAt reports whether now is within [ThisUpdate, NextUpdate) (RFC 5280
// section 5.1.2.5); a CRL without nextUpdate is fresh from thisUpdate on.
func (c *CRL) FreshAt(now time.Time) bool {
	if now.Before(c.ThisUpdate) {
		return false
	}
	return c.NextUpdate.IsZero() || now.Before(c.NextUpdate)
}
