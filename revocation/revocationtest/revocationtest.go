// Package revocationtest makes the revocation data an issuer publishes, for
// tests: CRLs signed by an IACA, status list and identifier list tokens
// signed by a key the IACA certified, and MSO status references.
package revocationtest

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/cose"
	"github.com/idreader/idreader/mdoc"
)

// CRL returns a DER CRL issued by iaca (signed with key) listing serials,
// valid from thisUpdate to nextUpdate.
func CRL(rand io.Reader, iaca *x509.Certificate, key crypto.Signer, serials []*big.Int, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	entries := make([]x509.RevocationListEntry, len(serials))
	for i, s := range serials {
		entries[i] = x509.RevocationListEntry{SerialNumber: s, RevocationTime: thisUpdate.Add(-time.Hour)}
	}
	der, err := x509.CreateRevocationList(rand, &x509.RevocationList{
		Number: big.NewInt(thisUpdate.Unix()), ThisUpdate: thisUpdate, NextUpdate: nextUpdate,
		RevokedCertificateEntries: entries,
	}, iaca, key)
	if err != nil {
		return nil, fmt.Errorf("revocationtest: making CRL: %w", err)
	}
	return der, nil
}

// PEM wraps a DER CRL in an "X509 CRL" PEM block.
func PEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// Signer is a status list signer certified by an IACA.
type Signer struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewSigner makes a P-256 key and a certificate for it signed by iaca,
// valid from notBefore to notAfter.
func NewSigner(rand io.Reader, iaca *x509.Certificate, iacaKey crypto.Signer, notBefore, notAfter time.Time) (*Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, fmt.Errorf("revocationtest: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(notBefore.UnixNano()&0x7fffffffffff | 1),
		Subject:      pkix.Name{CommonName: "idreader test status list signer", Country: iaca.Subject.Country},
		NotBefore:    notBefore, NotAfter: notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand, tmpl, iaca, &key.PublicKey, iacaKey)
	if err != nil {
		return nil, fmt.Errorf("revocationtest: signer certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("revocationtest: %w", err)
	}
	return &Signer{Cert: cert, Key: key}, nil
}

// TokenOptions are the claims of a list token.
type TokenOptions struct {
	URI               string
	IssuedAt, Expires time.Time // Expires zero: no exp claim
	TTL               time.Duration
}

// StatusListToken returns a status list token (COSE_Sign1 CWT) whose list
// has the given bits per entry and statuses (index → value; others 0),
// with room for size entries.
func (s *Signer) StatusListToken(rand io.Reader, o TokenOptions, bits int, size int, statuses map[int]byte) ([]byte, error) {
	lst := make([]byte, (size*bits+7)/8)
	for idx, v := range statuses {
		bit := idx * bits
		lst[bit/8] |= (v & byte(1<<bits-1)) << (bit % 8)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(lst)
	zw.Close()
	return s.token(rand, o, 65533, map[string]any{"bits": bits, "lst": z.Bytes()})
}

// IdentifierListToken returns an identifier list token listing ids.
func (s *Signer) IdentifierListToken(rand io.Reader, o TokenOptions, ids ...[]byte) ([]byte, error) {
	m := map[cbor.ByteString]map[string]any{}
	for _, id := range ids {
		m[cbor.ByteString(id)] = map[string]any{}
	}
	return s.token(rand, o, 65530, map[string]any{"identifiers": m})
}

func (s *Signer) token(rand io.Reader, o TokenOptions, key int64, list any) ([]byte, error) {
	claims := map[int64]any{2: o.URI, 6: o.IssuedAt.Unix(), key: list}
	if !o.Expires.IsZero() {
		claims[4] = o.Expires.Unix()
	}
	if o.TTL > 0 {
		claims[65534] = uint64(o.TTL / time.Second)
	}
	payload, err := mdoc.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("revocationtest: %w", err)
	}
	return cose.Sign1(rand, s.Key, payload, cose.SignOptions{X5Chain: [][]byte{s.Cert.Raw}})
}

// StatusListReference is the MSO status member pointing at index idx of
// the list at uri.
func StatusListReference(idx uint64, uri string) cbor.RawMessage {
	b, _ := mdoc.Marshal(map[string]any{"status_list": map[string]any{"idx": idx, "uri": uri}})
	return b
}

// IdentifierListReference is the MSO status member naming id in the list
// at uri.
func IdentifierListReference(id []byte, uri string) cbor.RawMessage {
	b, _ := mdoc.Marshal(map[string]any{"identifier_list": map[string]any{"id": id, "uri": uri}})
	return b
}
