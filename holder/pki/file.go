package pki

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/idreader/idreader/internal/keyfile"
)

// File names written by [PKI.Save] and read by [Load]. FileIACA is the
// trust anchor a reader is configured with.
const (
	FileIACA          = "iaca.pem"
	FileIACAKey       = "iaca_key.pem"
	FileDS            = "ds.pem"
	FileDSKey         = "ds_key.pem"
	FileReaderRoot    = "reader_root.pem"
	FileReaderRootKey = "reader_root_key.pem"
	FileReader        = "reader.pem"
	FileReaderKey     = "reader_key.pem"
)

type pemPair struct {
	certFile, keyFile string
	cert              **x509.Certificate
	key               **ecdsa.PrivateKey
}

func (p *PKI) pairs() []pemPair {
	return []pemPair{
		{FileIACA, FileIACAKey, &p.IACA, &p.IACAKey},
		{FileDS, FileDSKey, &p.DS, &p.DSKey},
		{FileReaderRoot, FileReaderRootKey, &p.ReaderRoot, &p.ReaderRootKey},
		{FileReader, FileReaderKey, &p.Reader, &p.ReaderKey},
	}
}

// Save writes the certificates (PEM "CERTIFICATE") and the private keys
// (PKCS#8 PEM "PRIVATE KEY", mode 0600) into dir, creating it if needed.
func (p *PKI) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("saving test PKI: %w", err)
	}
	for _, pp := range p.pairs() {
		if *pp.cert == nil || *pp.key == nil {
			return fmt.Errorf("saving test PKI: pki: %s or %s is missing", pp.certFile, pp.keyFile)
		}
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: (*pp.cert).Raw})
		if err := os.WriteFile(filepath.Join(dir, pp.certFile), certPEM, 0o644); err != nil {
			return fmt.Errorf("saving test PKI: %w", err)
		}
		keyPEM, err := EncodeKeyPEM(*pp.key)
		if err != nil {
			return fmt.Errorf("saving test PKI: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, pp.keyFile), keyPEM, 0o600); err != nil {
			return fmt.Errorf("saving test PKI: %w", err)
		}
	}
	return nil
}

// Load reads a PKI written by [PKI.Save]. Every certificate must match its
// key.
func Load(dir string) (*PKI, error) {
	p := &PKI{}
	for _, pp := range p.pairs() {
		b, err := os.ReadFile(filepath.Join(dir, pp.certFile))
		if err != nil {
			return nil, fmt.Errorf("loading test PKI: %w", err)
		}
		cert, err := ParseCertificatePEM(b)
		if err != nil {
			return nil, fmt.Errorf("loading test PKI %s: %w", pp.certFile, err)
		}
		b, err = os.ReadFile(filepath.Join(dir, pp.keyFile))
		if err != nil {
			return nil, fmt.Errorf("loading test PKI: %w", err)
		}
		key, err := ParseKeyPEM(b)
		if err != nil {
			return nil, fmt.Errorf("loading test PKI %s: %w", pp.keyFile, err)
		}
		pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
		if !ok || !pub.Equal(key.Public()) {
			return nil, fmt.Errorf("loading test PKI: pki: %s does not match %s", pp.keyFile, pp.certFile)
		}
		*pp.cert, *pp.key = cert, key
	}
	return p, nil
}

// EncodeKeyPEM encodes an ECDSA private key as PKCS#8 PEM ("PRIVATE KEY").
func EncodeKeyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKeyPEM decodes the first PEM block of data as a PKCS#8 (or SEC 1
// "EC PRIVATE KEY") ECDSA private key; it is keyfile.ParseECDSA, shared with
// the daemon's configuration.
func ParseKeyPEM(data []byte) (*ecdsa.PrivateKey, error) { return keyfile.ParseECDSA(data) }

// ParseCertificatePEM decodes the first "CERTIFICATE" PEM block of data.
func ParseCertificatePEM(data []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("pki: no CERTIFICATE PEM block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: parsing certificate: %w", err)
	}
	return c, nil
}
