// Package keyfile parses the PEM private keys the daemon and the tools read
// from files: a reader-authentication key (ISO/IEC 18013-5 clause 9.1.4) and
// the keys of the test PKI. It is a leaf package with no I/O, so config may
// use it without linking the simulated wallet's PKI.
package keyfile

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParseECDSA decodes the first PEM block of data as an ECDSA private key in
// PKCS#8 ("PRIVATE KEY", RFC 5208) or SEC 1 ("EC PRIVATE KEY", RFC 5915)
// form.
func ParseECDSA(data []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, errors.New("keyfile: no PEM block")
	}
	switch blk.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("keyfile: parsing PKCS#8 key: %w", err)
		}
		ec, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("keyfile: key type %T is not ECDSA", k)
		}
		return ec, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("keyfile: parsing EC key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("keyfile: PEM block %q is not a private key", blk.Type)
}
