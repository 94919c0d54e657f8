package credential

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/mdoc"
)

// File names of [Credential.Save] and [Load].
const (
	FileIssuerSigned = "issuer_signed.cbor"
	FileDeviceKey    = "device_key.pem"
)

// ErrNoDeviceKey is returned by [Credential.Present] when the credential has
// no private device key to authenticate with.
var ErrNoDeviceKey = errors.New("credential: no device key")

// Item is one IssuerSignedItemBytes of a credential, exactly as issued.
type Item struct {
	Namespace         string
	DigestID          uint64
	ElementIdentifier string
	// Bytes is the whole #6.24(bstr .cbor IssuerSignedItem), tag included:
	// the bytes the MSO digest covers.
	Bytes []byte
}

// Credential is an issued mdoc held by the wallet.
type Credential struct {
	// DocType is the MSO docType.
	DocType string
	// IssuerSigned is the IssuerSigned map {nameSpaces, issuerAuth} exactly
	// as issued (and as saved to disk).
	IssuerSigned []byte
	// IssuerAuth is the issuerAuth COSE_Sign1 as issued.
	IssuerAuth []byte
	// Items holds, per namespace, the IssuerSignedItemBytes in issued order.
	Items map[string][]Item
	// DigestAlgorithm, DeviceKeyCOSE (the MSO deviceKey COSE_Key as issued)
	// and the validity come from the MSO.
	DigestAlgorithm       string
	DeviceKeyCOSE         []byte
	Signed                time.Time
	ValidFrom, ValidUntil time.Time
	// DeviceKey is the private mdoc authentication key (SDeviceKey) matching
	// the MSO deviceKey, used for deviceSignature and, when it can do ECDH
	// (*ecdsa.PrivateKey), for deviceMac. Nil if the wallet does not hold it.
	DeviceKey crypto.Signer
}

// itemWire decodes an IssuerSignedItem keeping the value raw.
type itemWire struct {
	DigestID          uint64          `cbor:"digestID"`
	Random            []byte          `cbor:"random"`
	ElementIdentifier string          `cbor:"elementIdentifier"`
	ElementValue      cbor.RawMessage `cbor:"elementValue"`
}

// msoWire decodes the MSO fields the wallet needs.
type msoWire struct {
	Version         string `cbor:"version"`
	DigestAlgorithm string `cbor:"digestAlgorithm"`
	DeviceKeyInfo   struct {
		DeviceKey cbor.RawMessage `cbor:"deviceKey"`
	} `cbor:"deviceKeyInfo"`
	DocType      string `cbor:"docType"`
	ValidityInfo struct {
		Signed     cbor.RawTag `cbor:"signed"`
		ValidFrom  cbor.RawTag `cbor:"validFrom"`
		ValidUntil cbor.RawTag `cbor:"validUntil"`
	} `cbor:"validityInfo"`
}

// Parse reads an IssuerSigned map (18013-5 8.3.2.1.2.2), as issued by
// [Issue] or by anyone else. Items and issuerAuth are kept as received; the
// docType, digest algorithm, device key and validity are read from the MSO
// in the issuerAuth payload. Parse checks structure only: it does not verify
// the issuer signature or the digests (that is the reader's job).
func Parse(issuerSigned []byte) (*Credential, error) {
	var w issuerSignedWire
	if err := mdoc.Unmarshal(issuerSigned, &w); err != nil {
		return nil, fmt.Errorf("decoding IssuerSigned: %w", err)
	}
	if len(w.IssuerAuth) == 0 {
		return nil, fmt.Errorf("decoding IssuerSigned: %w: no issuerAuth", mdoc.ErrMalformed)
	}
	c := &Credential{
		IssuerSigned: append([]byte(nil), issuerSigned...),
		IssuerAuth:   append([]byte(nil), w.IssuerAuth...),
		Items:        map[string][]Item{},
	}
	for ns, items := range w.NameSpaces {
		ids := map[uint64]bool{}
		for i, raw := range items {
			t, err := mdoc.ParseTaggedCBOR(raw)
			if err != nil {
				return nil, fmt.Errorf("decoding item %d of %s: %w", i, ns, err)
			}
			var it itemWire
			if err := t.Decode(&it); err != nil {
				return nil, fmt.Errorf("decoding item %d of %s: %w", i, ns, err)
			}
			if it.ElementIdentifier == "" || len(it.ElementValue) == 0 {
				return nil, fmt.Errorf("decoding item %d of %s: %w: no elementIdentifier or elementValue", i, ns, mdoc.ErrMalformed)
			}
			if ids[it.DigestID] {
				return nil, fmt.Errorf("decoding item %d of %s: %w: digestID %d repeated", i, ns, mdoc.ErrMalformed, it.DigestID)
			}
			ids[it.DigestID] = true
			c.Items[ns] = append(c.Items[ns], Item{Namespace: ns, DigestID: it.DigestID, ElementIdentifier: it.ElementIdentifier, Bytes: t.Raw})
		}
	}
	var sign1 coseSign1
	if err := mdoc.Unmarshal(w.IssuerAuth, &sign1); err != nil {
		return nil, fmt.Errorf("decoding issuerAuth: %w", err)
	}
	if len(sign1.Payload) == 0 {
		return nil, fmt.Errorf("decoding issuerAuth: %w: no MSO payload", mdoc.ErrMalformed)
	}
	msoBytes, err := mdoc.ParseTaggedCBOR(sign1.Payload)
	if err != nil {
		return nil, fmt.Errorf("decoding MobileSecurityObjectBytes: %w", err)
	}
	var m msoWire
	if err := msoBytes.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding MSO: %w", err)
	}
	if m.DocType == "" {
		return nil, fmt.Errorf("decoding MSO: %w: no docType", mdoc.ErrMalformed)
	}
	if _, err := mdoc.ParseCOSEKey(m.DeviceKeyInfo.DeviceKey); err != nil {
		return nil, fmt.Errorf("decoding MSO deviceKey: %w", err)
	}
	c.DocType = m.DocType
	c.DigestAlgorithm = m.DigestAlgorithm
	c.DeviceKeyCOSE = append([]byte(nil), m.DeviceKeyInfo.DeviceKey...)
	for _, f := range []struct {
		tag cbor.RawTag
		dst *time.Time
		key string
	}{
		{m.ValidityInfo.Signed, &c.Signed, "signed"},
		{m.ValidityInfo.ValidFrom, &c.ValidFrom, "validFrom"},
		{m.ValidityInfo.ValidUntil, &c.ValidUntil, "validUntil"},
	} {
		t, err := parseTDate(f.tag)
		if err != nil {
			return nil, fmt.Errorf("decoding MSO validityInfo.%s: %w", f.key, err)
		}
		*f.dst = t
	}
	return c, nil
}

// parseTDate reads tdate = #6.0(tstr), accepting any RFC 3339 form.
func parseTDate(t cbor.RawTag) (time.Time, error) {
	if t.Number != 0 {
		return time.Time{}, fmt.Errorf("%w: tag %d where tdate (tag 0) is required", mdoc.ErrMalformed, t.Number)
	}
	var s string
	if err := mdoc.Unmarshal(t.Content, &s); err != nil {
		return time.Time{}, err
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: tdate %q", mdoc.ErrMalformed, s)
	}
	return v, nil
}

// Namespaces returns the credential's namespaces, sorted.
func (c *Credential) Namespaces() []string {
	ns := make([]string, 0, len(c.Items))
	for n := range c.Items {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Has reports whether the credential holds element id in namespace ns.
func (c *Credential) Has(ns, id string) bool {
	for _, it := range c.Items[ns] {
		if it.ElementIdentifier == id {
			return true
		}
	}
	return false
}

// Save writes dir/issuer_signed.cbor (the IssuerSigned bytes unchanged) and,
// if the credential holds its device key, dir/device_key.pem (PKCS#8, mode
// 0600). dir is created if needed.
func (c *Credential) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("saving credential: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileIssuerSigned), c.IssuerSigned, 0o644); err != nil {
		return fmt.Errorf("saving credential: %w", err)
	}
	if c.DeviceKey == nil {
		return nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.DeviceKey)
	if err != nil {
		return fmt.Errorf("saving credential: encoding device key: %w", err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, FileDeviceKey), pemBytes, 0o600); err != nil {
		return fmt.Errorf("saving credential: %w", err)
	}
	return nil
}

// Load reads a credential saved by [Credential.Save], or issued elsewhere
// and stored in the same two files. dir/device_key.pem is optional; when
// present it must be the private key of the MSO deviceKey.
func Load(dir string) (*Credential, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileIssuerSigned))
	if err != nil {
		return nil, fmt.Errorf("loading credential: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("loading credential: %w", err)
	}
	kb, err := os.ReadFile(filepath.Join(dir, FileDeviceKey))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading credential: %w", err)
	}
	key, err := ParseDeviceKeyPEM(kb)
	if err != nil {
		return nil, fmt.Errorf("loading credential: %w", err)
	}
	if err := c.SetDeviceKey(key); err != nil {
		return nil, fmt.Errorf("loading credential: %w", err)
	}
	return c, nil
}

// SetDeviceKey installs the private device key after checking that its
// public half is the MSO deviceKey.
func (c *Credential) SetDeviceKey(key crypto.Signer) error {
	ck, err := mdoc.ParseCOSEKey(c.DeviceKeyCOSE)
	if err != nil {
		return fmt.Errorf("reading MSO deviceKey: %w", err)
	}
	pub, err := ck.PublicKey()
	if err != nil {
		return fmt.Errorf("reading MSO deviceKey: %w", err)
	}
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(key.Public()) {
		return errors.New("credential: device key does not match the MSO deviceKey")
	}
	c.DeviceKey = key
	return nil
}

// ParseDeviceKeyPEM decodes a PKCS#8 ("PRIVATE KEY") or SEC 1 ("EC PRIVATE
// KEY") PEM private key usable as a device key.
func ParseDeviceKeyPEM(data []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, errors.New("credential: no PEM block in device key")
	}
	var k any
	var err error
	switch blk.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("credential: PEM block %q is not a private key", blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("credential: parsing device key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("credential: device key type %T cannot sign", k)
	}
	if _, _, _, err := signAlg(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}
