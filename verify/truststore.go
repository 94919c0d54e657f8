package verify

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TrustStore holds the trusted IACA root certificates (ISO/IEC 18013-5 Annex
// B, "IACA root certificate"). A document signer certificate is trusted when
// one of them signed it. A TrustStore is not safe for concurrent mutation;
// concurrent verification with a store nobody modifies is fine. It
// remembers which DS certificates its anchors signed (see
// SetChainCacheSize); adding anchors clears that memory.
type TrustStore struct {
	certs     []*x509.Certificate
	bySubject map[string][]*x509.Certificate
	info      map[string]AnchorInfo // by DER; absent = zero AnchorInfo
	cache     chainCache
}

// AnchorInfo is what the store knows about one trust anchor besides the
// certificate: where it came from and what it may issue. A VICAL (ISO/IEC
// 18013-5 Annex C) gives both for each of its entries.
type AnchorInfo struct {
	// Source names where the anchor came from, for reports and audit: a
	// file name, a VICAL provider and date. Empty when unknown.
	Source string
	// DocTypes, when not empty, are the only doc types the anchor is
	// trusted for: a document of another doc type whose DS it signed fails
	// the check anchor_doctype with code issuer_untrusted.
	DocTypes []string
	// Country is the issuing country the source gives for the anchor (a
	// VICAL's issuingCountry), empty when unknown. It is reported, not
	// enforced: the Annex B country checks compare certificates.
	Country string
}

// allows reports whether the anchor may issue docType.
func (a AnchorInfo) allows(docType string) bool {
	if len(a.DocTypes) == 0 {
		return true
	}
	for _, d := range a.DocTypes {
		if d == docType {
			return true
		}
	}
	return false
}

// NewTrustStore returns a store holding certs.
func NewTrustStore(certs ...*x509.Certificate) *TrustStore {
	s := &TrustStore{bySubject: map[string][]*x509.Certificate{}}
	s.Add(certs...)
	return s
}

// Add adds IACA certificates; duplicates (same DER) are kept once.
func (s *TrustStore) Add(certs ...*x509.Certificate) {
	if s.bySubject == nil {
		s.bySubject = map[string][]*x509.Certificate{}
	}
	s.cache.clear()
next:
	for _, c := range certs {
		if c == nil {
			continue
		}
		for _, have := range s.bySubject[string(c.RawSubject)] {
			if bytes.Equal(have.Raw, c.Raw) {
				continue next
			}
		}
		s.certs = append(s.certs, c)
		s.bySubject[string(c.RawSubject)] = append(s.bySubject[string(c.RawSubject)], c)
	}
}

// AddAnchors adds IACA certificates with what is known about them; a
// certificate already in the store gets info in place of what it had.
func (s *TrustStore) AddAnchors(info AnchorInfo, certs ...*x509.Certificate) {
	s.Add(certs...)
	if s.info == nil {
		s.info = map[string]AnchorInfo{}
	}
	info.DocTypes = append([]string(nil), info.DocTypes...)
	s.cache.clear()
	for _, c := range certs {
		if c != nil {
			s.info[string(c.Raw)] = info
		}
	}
}

// Anchor returns what the store knows about certificate c, and whether c
// is one of its anchors.
func (s *TrustStore) Anchor(c *x509.Certificate) (AnchorInfo, bool) {
	if s == nil || c == nil {
		return AnchorInfo{}, false
	}
	for _, have := range s.bySubject[string(c.RawSubject)] {
		if bytes.Equal(have.Raw, c.Raw) {
			info := s.info[string(c.Raw)]
			info.DocTypes = append([]string(nil), info.DocTypes...)
			return info, true
		}
	}
	return AnchorInfo{}, false
}

// Certificates returns the certificates of the store, in the order added.
func (s *TrustStore) Certificates() []*x509.Certificate {
	if s == nil {
		return nil
	}
	return append([]*x509.Certificate(nil), s.certs...)
}

// Len is the number of certificates in the store.
func (s *TrustStore) Len() int {
	if s == nil {
		return 0
	}
	return len(s.certs)
}

// candidates returns the store's certificates whose subject is the issuer of
// c and, when both key identifiers are present, whose subject key identifier
// is c's authority key identifier (RFC 5280 section 4.2.1.1).
func (s *TrustStore) candidates(c *x509.Certificate) []*x509.Certificate {
	if s == nil {
		return nil
	}
	var out []*x509.Certificate
	for _, ca := range s.bySubject[string(c.RawIssuer)] {
		if len(c.AuthorityKeyId) > 0 && len(ca.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, ca.SubjectKeyId) {
			continue
		}
		out = append(out, ca)
	}
	return out
}

// ParseCertificates reads certificates from PEM ("CERTIFICATE" blocks), DER,
// or hex text of DER (whitespace ignored).
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if bytes.Contains(data, []byte("-----BEGIN")) {
		var out []*x509.Certificate
		rest := data
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PEM certificate: %v", ErrMalformed, err)
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: no CERTIFICATE block in PEM input", ErrMalformed)
		}
		return out, nil
	}
	der := data
	if h, ok := DecodeHexText(data); ok {
		der = h
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: DER certificate: %v", ErrMalformed, err)
	}
	return []*x509.Certificate{c}, nil
}

// DecodeHexText returns the bytes of data read as hex text when data is only
// hex digits and whitespace (an even number of digits, at least one byte).
// Binary CBOR or DER never qualifies: their first byte is not an ASCII hex
// digit for the structures this project reads (maps, arrays, tags, SEQUENCE).
func DecodeHexText(data []byte) ([]byte, bool) {
	digits := make([]byte, 0, len(data))
	for _, c := range data {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			digits = append(digits, c)
		case c == ' ', c == '\t', c == '\n', c == '\r':
		default:
			return nil, false
		}
	}
	if len(digits) == 0 || len(digits)%2 != 0 {
		return nil, false
	}
	out := make([]byte, len(digits)/2)
	if _, err := hex.Decode(out, digits); err != nil {
		return nil, false
	}
	return out, true
}

// trustFileExts are the file name endings LoadTrustStore reads from a directory.
var trustFileExts = []string{".pem", ".crt", ".cer", ".der", ".hex"}

// LoadTrustStore reads IACA certificates from files (PEM, DER or hex of DER)
// and from directories (every non-hidden file ending in .pem, .crt, .cer, .der
// or .hex, not recursive). Any unreadable file is an error; so is ending up
// with no certificate.
func LoadTrustStore(paths ...string) (*TrustStore, error) {
	s := NewTrustStore()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("loading trust store: %w", err)
		}
		files := []string{p}
		if fi.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("loading trust store: %w", err)
			}
			files = files[:0]
			for _, e := range entries {
				name := e.Name()
				if e.IsDir() || strings.HasPrefix(name, ".") || !hasTrustExt(name) {
					continue
				}
				files = append(files, filepath.Join(p, name))
			}
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("loading trust store: %w", err)
			}
			certs, err := ParseCertificates(data)
			if err != nil {
				return nil, fmt.Errorf("loading trust store %s: %w", f, err)
			}
			s.AddAnchors(AnchorInfo{Source: filepath.Base(f)}, certs...)
		}
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("loading trust store: %w: no certificates in %v", ErrMalformed, paths)
	}
	return s, nil
}

func hasTrustExt(name string) bool {
	l := strings.ToLower(name)
	for _, e := range trustFileExts {
		if strings.HasSuffix(l, e) {
			return true
		}
	}
	return false
}
