package main

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/idreader/idreader/verify"
)

// readInput reads a file that may hold binary CBOR/DER or hex text
// (whitespace ignored) and returns the bytes.
func readInput(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if h, ok := verify.DecodeHexText(b); ok {
		return h, nil
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%s: empty file", path)
	}
	return b, nil
}

// readECDHKey reads a private key for key agreement: PEM (SEC1 "EC PRIVATE
// KEY" or PKCS#8 "PRIVATE KEY"), DER of either (binary or hex), or a JWK
// (kty EC with crv P-256/P-384/P-521 and d; kty OKP with crv X25519 and d).
func readECDHKey(path string) (*ecdh.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := bytes.TrimSpace(b)
	switch {
	case bytes.HasPrefix(t, []byte("{")):
		return parseJWK(t)
	case bytes.Contains(t, []byte("-----BEGIN")):
		rest := t
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				return nil, fmt.Errorf("%s: no EC PRIVATE KEY or PRIVATE KEY block", path)
			}
			if blk.Type == "EC PRIVATE KEY" || blk.Type == "PRIVATE KEY" {
				return parseDERKey(blk.Bytes)
			}
		}
	}
	der := b
	if h, ok := verify.DecodeHexText(b); ok {
		der = h
	}
	return parseDERKey(der)
}

func parseDERKey(der []byte) (*ecdh.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		switch k := k.(type) {
		case *ecdsa.PrivateKey:
			return k.ECDH()
		case *ecdh.PrivateKey:
			return k, nil
		}
		return nil, fmt.Errorf("PKCS#8 key of type %T cannot do key agreement", k)
	}
	k, err := x509.ParseECPrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS#8 or SEC1 private key: %v", err)
	}
	return k.ECDH()
}

// parseJWK reads an RFC 7517/7518 private JWK (EC or OKP X25519).
func parseJWK(b []byte) (*ecdh.PrivateKey, error) {
	var j struct {
		Kty, Crv, X, Y, D string
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("JWK: %v", err)
	}
	dec := base64.RawURLEncoding.DecodeString
	d, err := dec(j.D)
	if err != nil || len(d) == 0 {
		return nil, fmt.Errorf("JWK: missing or bad private key member d")
	}
	var curve ecdh.Curve
	switch {
	case j.Kty == "EC" && j.Crv == "P-256":
		curve = ecdh.P256()
	case j.Kty == "EC" && j.Crv == "P-384":
		curve = ecdh.P384()
	case j.Kty == "EC" && j.Crv == "P-521":
		curve = ecdh.P521()
	case j.Kty == "OKP" && j.Crv == "X25519":
		curve = ecdh.X25519()
	default:
		return nil, fmt.Errorf("JWK: unsupported kty %q crv %q", j.Kty, j.Crv)
	}
	k, err := curve.NewPrivateKey(d)
	if err != nil {
		return nil, fmt.Errorf("JWK: %v", err)
	}
	// When the public members are present they must match d.
	if j.X != "" {
		x, err := dec(j.X)
		if err != nil {
			return nil, fmt.Errorf("JWK: bad x")
		}
		want := x
		if j.Kty == "EC" {
			y, err := dec(j.Y)
			if err != nil {
				return nil, fmt.Errorf("JWK: bad y")
			}
			want = append(append([]byte{4}, x...), y...)
		}
		if !bytes.Equal(k.PublicKey().Bytes(), want) {
			return nil, fmt.Errorf("JWK: public key does not match d")
		}
	}
	return k, nil
}
