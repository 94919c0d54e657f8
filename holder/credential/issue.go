package credential

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/mdoc"
)

// Element is one data element to issue: its namespace, its identifier and
// its value. Values are encoded with the project's deterministic CBOR mode:
// use string, bool, integers, []byte, [FullDate] / [TDate] tags, and
// []any / map[string]any for structured values such as driving_privileges.
type Element struct {
	Namespace  string
	Identifier string
	Value      any
}

// Digest algorithms of the MSO (18013-5 9.1.2.5).
const (
	DigestSHA256 = "SHA-256"
	DigestSHA384 = "SHA-384"
	DigestSHA512 = "SHA-512"
)

// randomSize is the length of IssuerSignedItem.random; 18013-5 9.1.2.5
// requires at least 16 bytes.
const randomSize = 32

// IssueOptions configures [Issue].
type IssueOptions struct {
	// Rand is the source of the item salts, digest IDs and signature
	// randomness; nil means crypto/rand.Reader.
	Rand io.Reader
	// DocType is the document type, e.g. [mdoc.DocTypeMDL].
	DocType string
	// Elements are the data elements, in the order they are stored.
	Elements []Element
	// DeviceKey is the mdoc authentication key (SDeviceKey) bound into the
	// MSO. Pass the private key (a crypto.Signer such as *ecdsa.PrivateKey)
	// to get a credential that can be presented; a bare public key gives a
	// credential whose DeviceKey must be set before [Credential.Present].
	DeviceKey crypto.PublicKey
	// DSCert and DSKey are the Document Signer certificate and key.
	DSCert *x509.Certificate
	DSKey  crypto.Signer
	// ExtraCerts, if any, follow DSCert in the x5chain, which then becomes
	// an array (RFC 9360); without them x5chain is a single bstr.
	ExtraCerts []*x509.Certificate
	// Signed is validityInfo.signed and is required. ValidFrom defaults to
	// Signed, ValidUntil to Signed + 1 year. ExpectedUpdate is optional.
	Signed, ValidFrom, ValidUntil, ExpectedUpdate time.Time
	// DigestAlgorithm is "SHA-256" (default), "SHA-384" or "SHA-512".
	DigestAlgorithm string
	// Decoys adds this many random digests per namespace to the MSO,
	// under digest IDs no item uses.
	Decoys int
	// KeyAuthorizations, when set, is written into the MSO deviceKeyInfo
	// (18013-5 9.1.2.4): the namespaces and elements the device key may
	// sign as device-signed elements.
	KeyAuthorizations *mdoc.KeyAuthorizations
	// Status, when set, is the MSO "status" member of ISO/IEC 18013-5
	// second edition (clause 9.1.2.6), encoded CBOR: a status_list or
	// identifier_list reference.
	Status cbor.RawMessage
}

// issuerSignedItem is IssuerSignedItem (18013-5 8.3.2.1.2.2).
type issuerSignedItem struct {
	DigestID          uint64 `cbor:"digestID"`
	Random            []byte `cbor:"random"`
	ElementIdentifier string `cbor:"elementIdentifier"`
	ElementValue      any    `cbor:"elementValue"`
}

// mobileSecurityObject is the MSO (18013-5 9.1.2.4).
type mobileSecurityObject struct {
	Version         string                       `cbor:"version"`
	DigestAlgorithm string                       `cbor:"digestAlgorithm"`
	ValueDigests    map[string]map[uint64][]byte `cbor:"valueDigests"`
	DeviceKeyInfo   deviceKeyInfo                `cbor:"deviceKeyInfo"`
	DocType         string                       `cbor:"docType"`
	ValidityInfo    validityInfo                 `cbor:"validityInfo"`
	Status          cbor.RawMessage              `cbor:"status,omitempty"`
}

type deviceKeyInfo struct {
	DeviceKey         cbor.RawMessage         `cbor:"deviceKey"`
	KeyAuthorizations *mdoc.KeyAuthorizations `cbor:"keyAuthorizations,omitempty"`
}

type validityInfo struct {
	Signed         cbor.Tag  `cbor:"signed"`
	ValidFrom      cbor.Tag  `cbor:"validFrom"`
	ValidUntil     cbor.Tag  `cbor:"validUntil"`
	ExpectedUpdate *cbor.Tag `cbor:"expectedUpdate,omitempty"`
}

// issuerSignedWire is IssuerSigned = {? "nameSpaces": IssuerNameSpaces,
// "issuerAuth": COSE_Sign1} with every item and issuerAuth kept raw.
type issuerSignedWire struct {
	NameSpaces map[string][]cbor.RawMessage `cbor:"nameSpaces,omitempty"`
	IssuerAuth cbor.RawMessage              `cbor:"issuerAuth"`
}

// FullDate is the CBOR full-date of RFC 8943: tag 1004 over "YYYY-MM-DD".
func FullDate(t time.Time) cbor.Tag {
	return cbor.Tag{Number: 1004, Content: t.Format(time.DateOnly)}
}

// TDate is the CBOR tdate of 18013-5 (tag 0, RFC 3339), in UTC without
// fractional seconds, as clause 7.2.1 asks.
func TDate(t time.Time) cbor.Tag {
	return cbor.Tag{Number: 0, Content: t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")}
}

func digestHash(name string) (func() hash.Hash, error) {
	switch name {
	case "", DigestSHA256:
		return sha256.New, nil
	case DigestSHA384:
		return sha512.New384, nil
	case DigestSHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("credential: unsupported digest algorithm %q", name)
}

// Issue makes an mdoc: one IssuerSignedItemBytes per element with a fresh
// 32-byte random and a random digest ID unique in its namespace, the MSO
// over their digests (taken over the whole tag-24 item, 18013-5 9.1.2.5),
// and issuerAuth, a COSE_Sign1 by the Document Signer with the MSO bytes as
// attached payload and the DS certificate in x5chain.
func Issue(opts IssueOptions) (*Credential, error) {
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	switch {
	case opts.DocType == "":
		return nil, errors.New("credential: issuing needs a docType")
	case opts.DSCert == nil || opts.DSKey == nil:
		return nil, errors.New("credential: issuing needs a Document Signer certificate and key")
	case opts.DeviceKey == nil:
		return nil, errors.New("credential: issuing needs a device key")
	case opts.Signed.IsZero():
		return nil, errors.New("credential: issuing needs a signing time")
	case opts.Decoys < 0:
		return nil, errors.New("credential: negative decoy count")
	}
	newHash, err := digestHash(opts.DigestAlgorithm)
	if err != nil {
		return nil, err
	}
	algName := opts.DigestAlgorithm
	if algName == "" {
		algName = DigestSHA256
	}
	devicePub := opts.DeviceKey
	deviceSigner, _ := opts.DeviceKey.(crypto.Signer)
	if deviceSigner != nil {
		devicePub = deviceSigner.Public()
	}
	deviceKey, err := mdoc.EncodeCOSEKey(devicePub)
	if err != nil {
		return nil, fmt.Errorf("encoding device key: %w", err)
	}

	// Items and their digests, per namespace.
	nameSpaces := map[string][]cbor.RawMessage{}
	digests := map[string]map[uint64][]byte{}
	seen := map[string]map[string]bool{}
	for _, e := range opts.Elements {
		if e.Namespace == "" || e.Identifier == "" {
			return nil, errors.New("credential: element without namespace or identifier")
		}
		if seen[e.Namespace] == nil {
			seen[e.Namespace] = map[string]bool{}
			digests[e.Namespace] = map[uint64][]byte{}
		}
		if seen[e.Namespace][e.Identifier] {
			return nil, fmt.Errorf("credential: element %s/%s given twice", e.Namespace, e.Identifier)
		}
		seen[e.Namespace][e.Identifier] = true
		id, err := uniqueDigestID(r, digests[e.Namespace])
		if err != nil {
			return nil, err
		}
		salt := make([]byte, randomSize)
		if _, err := io.ReadFull(r, salt); err != nil {
			return nil, fmt.Errorf("reading item random: %w", err)
		}
		item, err := mdoc.WrapCBOR(issuerSignedItem{DigestID: id, Random: salt, ElementIdentifier: e.Identifier, ElementValue: e.Value})
		if err != nil {
			return nil, fmt.Errorf("encoding element %s/%s: %w", e.Namespace, e.Identifier, err)
		}
		h := newHash()
		h.Write(item.Raw)
		digests[e.Namespace][id] = h.Sum(nil)
		nameSpaces[e.Namespace] = append(nameSpaces[e.Namespace], item.Raw)
	}
	for ns, d := range digests {
		for range opts.Decoys {
			id, err := uniqueDigestID(r, d)
			if err != nil {
				return nil, err
			}
			decoy := make([]byte, newHash().Size())
			if _, err := io.ReadFull(r, decoy); err != nil {
				return nil, fmt.Errorf("reading decoy digest: %w", err)
			}
			digests[ns][id] = decoy
		}
	}

	validFrom, validUntil := opts.ValidFrom, opts.ValidUntil
	if validFrom.IsZero() {
		validFrom = opts.Signed
	}
	if validUntil.IsZero() {
		validUntil = opts.Signed.AddDate(1, 0, 0)
	}
	vi := validityInfo{Signed: TDate(opts.Signed), ValidFrom: TDate(validFrom), ValidUntil: TDate(validUntil)}
	if !opts.ExpectedUpdate.IsZero() {
		t := TDate(opts.ExpectedUpdate)
		vi.ExpectedUpdate = &t
	}
	msoBytes, err := mdoc.WrapCBOR(mobileSecurityObject{
		Version:         "1.0",
		DigestAlgorithm: algName,
		ValueDigests:    digests,
		DeviceKeyInfo:   deviceKeyInfo{DeviceKey: deviceKey, KeyAuthorizations: opts.KeyAuthorizations},
		DocType:         opts.DocType,
		ValidityInfo:    vi,
		Status:          opts.Status,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding MSO: %w", err)
	}

	issuerAuth, err := signIssuerAuth(r, opts, msoBytes.Raw)
	if err != nil {
		return nil, err
	}
	issuerSigned, err := mdoc.Marshal(issuerSignedWire{NameSpaces: nameSpaces, IssuerAuth: issuerAuth})
	if err != nil {
		return nil, fmt.Errorf("encoding IssuerSigned: %w", err)
	}
	c, err := Parse(issuerSigned)
	if err != nil {
		return nil, fmt.Errorf("reading back issued credential: %w", err)
	}
	c.DeviceKey = deviceSigner
	return c, nil
}

// signIssuerAuth makes issuerAuth = COSE_Sign1 [<<{1: alg}>>, {33: x5chain},
// MobileSecurityObjectBytes, signature] (18013-5 9.1.2.4).
func signIssuerAuth(r io.Reader, opts IssueOptions, msoBytes []byte) ([]byte, error) {
	alg, _, _, err := signAlg(opts.DSKey.Public())
	if err != nil {
		return nil, fmt.Errorf("document signer key: %w", err)
	}
	protected, err := protectedAlg(alg)
	if err != nil {
		return nil, err
	}
	var x5chain any = opts.DSCert.Raw
	if len(opts.ExtraCerts) > 0 {
		chain := [][]byte{opts.DSCert.Raw}
		for _, c := range opts.ExtraCerts {
			chain = append(chain, c.Raw)
		}
		x5chain = chain
	}
	unprotected, err := mdoc.Marshal(map[int]any{headerX5Chain: x5chain})
	if err != nil {
		return nil, fmt.Errorf("encoding x5chain: %w", err)
	}
	sig, err := coseSign(r, opts.DSKey, protected, msoBytes)
	if err != nil {
		return nil, fmt.Errorf("signing MSO: %w", err)
	}
	return mdoc.Marshal(coseSign1{Protected: protected, Unprotected: unprotected, Payload: msoBytes, Signature: sig})
}

// uniqueDigestID draws a random digest ID below 2^31 not yet in used.
func uniqueDigestID(r io.Reader, used map[uint64][]byte) (uint64, error) {
	var b [4]byte
	for range 64 {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, fmt.Errorf("reading digest ID: %w", err)
		}
		id := uint64(binary.BigEndian.Uint32(b[:]) & 0x7fffffff)
		if _, dup := used[id]; !dup {
			return id, nil
		}
	}
	return 0, errors.New("credential: randomness source keeps repeating digest IDs")
}
