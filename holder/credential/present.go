package credential

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/session"
)

// emptyDeviceNameSpacesBytes is DeviceNameSpacesBytes over an empty map,
// #6.24(<<{}>>) = d8 18 41 a0: the wallet signs no elements itself.
var emptyDeviceNameSpacesBytes = []byte{0xd8, 0x18, 0x41, 0xa0}

// ErrorCodeDataNotReturned is error code 0, "data not returned", used in
// Document errors and documentErrors (18013-5 8.3.2.1.2.3).
const ErrorCodeDataNotReturned = 0

// Faults breaks a presentation on purpose, for the reader's negative tests.
// The zero value breaks nothing.
type Faults struct {
	// TamperValue names an element whose value is changed after signing:
	// the item is re-encoded with another value, so its digest no longer
	// matches the MSO.
	TamperValue string
	// SignOtherTranscript authenticates a DeviceAuthentication built over a
	// different SessionTranscript.
	SignOtherTranscript bool
	// WrongDeviceKey authenticates with a fresh key instead of the MSO
	// deviceKey.
	WrongDeviceKey bool
	// CorruptIssuerAuth flips a bit of the issuerAuth signature.
	CorruptIssuerAuth bool
	// DocType, if set, replaces the Document docType (the MSO keeps its own),
	// and is the docType device authentication covers.
	DocType string
	// DiscloseAll discloses every element held, requested or not.
	DiscloseAll bool
}

// PresentOptions configures [Credential.Present].
type PresentOptions struct {
	// Rand is the signature randomness (and the fresh key of
	// Faults.WrongDeviceKey); nil means crypto/rand.Reader.
	Rand io.Reader
	// Requested maps namespace → element identifier → IntentToRetain, as in
	// ItemsRequest. An element is disclosed when its key is present,
	// whatever the IntentToRetain value.
	Requested map[string]map[string]bool
	// SessionTranscript is SessionTranscriptBytes, the tag-24 wrapped
	// SessionTranscript used on the wire; the bare SessionTranscript array
	// is accepted too.
	SessionTranscript []byte
	// MAC selects deviceMac (needs ReaderKey and an ECDH-capable device
	// key) instead of deviceSignature.
	MAC bool
	// ReaderKey is EReaderKey, the reader's ephemeral public key, for MAC.
	ReaderKey *ecdh.PublicKey
	// DeviceSigned are device-signed elements (DeviceNameSpaces, 18013-5
	// 8.3.2.1.2.2): namespace → identifier → value, signed or MACed by the
	// device key together with the rest of DeviceAuthentication. Nil sends
	// the empty map.
	DeviceSigned map[string]map[string]any
	// Faults breaks the presentation on purpose.
	Faults Faults
}

type documentWire struct {
	DocType      string                    `cbor:"docType"`
	IssuerSigned issuerSignedWire          `cbor:"issuerSigned"`
	DeviceSigned deviceSignedWire          `cbor:"deviceSigned"`
	Errors       map[string]map[string]int `cbor:"errors,omitempty"`
}

type deviceSignedWire struct {
	NameSpaces cbor.RawMessage            `cbor:"nameSpaces"`
	DeviceAuth map[string]cbor.RawMessage `cbor:"deviceAuth"`
}

type deviceResponseWire struct {
	Version        string            `cbor:"version"`
	Documents      []cbor.RawMessage `cbor:"documents,omitempty"`
	DocumentErrors []map[string]int  `cbor:"documentErrors,omitempty"`
	Status         uint              `cbor:"status"`
}

// Present answers one DocRequest: it returns the encoded Document
// (18013-5 8.3.2.1.2.2) with issuerSigned holding only the requested
// elements the credential has, each as the issued IssuerSignedItemBytes,
// the issued issuerAuth unchanged, errors (code 0) for requested elements
// it does not have, and deviceSigned with empty DeviceNameSpacesBytes and a
// deviceSignature or deviceMac over DeviceAuthenticationBytes (9.1.3.4).
func (c *Credential) Present(opts PresentOptions) ([]byte, error) {
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	if c.DeviceKey == nil {
		return nil, ErrNoDeviceKey
	}
	f := opts.Faults
	docType := c.DocType
	if f.DocType != "" {
		docType = f.DocType
	}

	disclosed := map[string][]cbor.RawMessage{}
	for ns, items := range c.Items {
		for _, it := range items {
			if _, ok := opts.Requested[ns][it.ElementIdentifier]; !ok && !f.DiscloseAll {
				continue
			}
			b := it.Bytes
			if f.TamperValue == it.ElementIdentifier {
				var err error
				if b, err = tamper(b); err != nil {
					return nil, fmt.Errorf("tampering %s: %w", it.ElementIdentifier, err)
				}
			}
			disclosed[ns] = append(disclosed[ns], b)
		}
	}
	var docErrors map[string]map[string]int
	for ns, ids := range opts.Requested {
		for id := range ids {
			if !c.Has(ns, id) {
				if docErrors == nil {
					docErrors = map[string]map[string]int{}
				}
				if docErrors[ns] == nil {
					docErrors[ns] = map[string]int{}
				}
				docErrors[ns][id] = ErrorCodeDataNotReturned
			}
		}
	}

	issuerAuth := cbor.RawMessage(c.IssuerAuth)
	if f.CorruptIssuerAuth {
		// The signature bstr is the last item of the array, so the last
		// byte of issuerAuth is the last signature byte.
		issuerAuth = append(cbor.RawMessage(nil), c.IssuerAuth...)
		issuerAuth[len(issuerAuth)-1] ^= 0x01
	}

	deviceNameSpaces := emptyDeviceNameSpacesBytes
	if opts.DeviceSigned != nil {
		t, err := mdoc.WrapCBOR(opts.DeviceSigned)
		if err != nil {
			return nil, fmt.Errorf("encoding DeviceNameSpaces: %w", err)
		}
		deviceNameSpaces = t.Raw
	}
	deviceAuth, err := c.deviceAuth(r, opts, docType, deviceNameSpaces)
	if err != nil {
		return nil, err
	}
	doc := documentWire{
		DocType:      docType,
		IssuerSigned: issuerSignedWire{NameSpaces: disclosed, IssuerAuth: issuerAuth},
		DeviceSigned: deviceSignedWire{NameSpaces: deviceNameSpaces, DeviceAuth: deviceAuth},
		Errors:       docErrors,
	}
	out, err := mdoc.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding Document: %w", err)
	}
	return out, nil
}

// deviceAuth builds DeviceAuth = {"deviceSignature": COSE_Sign1} or
// {"deviceMac": COSE_Mac0} (18013-5 9.1.3.4).
func (c *Credential) deviceAuth(r io.Reader, opts PresentOptions, docType string, deviceNameSpaces []byte) (map[string]cbor.RawMessage, error) {
	stb, transcript, err := splitTranscript(opts.SessionTranscript)
	if err != nil {
		return nil, err
	}
	signed := transcript
	if opts.Faults.SignOtherTranscript {
		// Another transcript: the same handover shape, no engagement.
		signed = cbor.RawMessage{0x83, 0xf6, 0xf6, 0xf6}
	}
	dab, err := DeviceAuthenticationBytes(signed, docType, deviceNameSpaces)
	if err != nil {
		return nil, err
	}
	key := c.DeviceKey
	if opts.Faults.WrongDeviceKey {
		if key, err = freshKeyLike(r, key); err != nil {
			return nil, err
		}
	}
	if opts.MAC {
		mac, err := DeviceMAC(key, opts.ReaderKey, stb, dab)
		if err != nil {
			return nil, err
		}
		return map[string]cbor.RawMessage{"deviceMac": mac}, nil
	}
	sig, err := DeviceSignature(r, key, dab)
	if err != nil {
		return nil, err
	}
	return map[string]cbor.RawMessage{"deviceSignature": sig}, nil
}

// splitTranscript accepts SessionTranscriptBytes (#6.24) or the bare
// SessionTranscript array and returns both forms.
func splitTranscript(b []byte) (stb, transcript []byte, err error) {
	if len(b) == 0 {
		return nil, nil, errors.New("credential: no session transcript")
	}
	if b[0]>>5 == 4 { // major type 4: the bare array
		t, err := mdoc.NewTaggedCBOR(b)
		if err != nil {
			return nil, nil, fmt.Errorf("wrapping session transcript: %w", err)
		}
		stb, transcript = t.Raw, b
	} else {
		t, err := mdoc.ParseTaggedCBOR(b)
		if err != nil {
			return nil, nil, fmt.Errorf("reading session transcript: %w", err)
		}
		stb, transcript = t.Raw, t.Inner
	}
	var arr []cbor.RawMessage
	if err := mdoc.Unmarshal(transcript, &arr); err != nil || len(arr) != 3 {
		return nil, nil, fmt.Errorf("reading session transcript: %w: not a 3-item array", mdoc.ErrMalformed)
	}
	return stb, transcript, nil
}

// DeviceAuthenticationBytes builds #6.24(bstr .cbor ["DeviceAuthentication",
// SessionTranscript, DocType, DeviceNameSpacesBytes]) (18013-5 9.1.3.4).
// sessionTranscript is the bare SessionTranscript array and
// deviceNameSpacesBytes the tag-24 item; both are embedded unchanged.
func DeviceAuthenticationBytes(sessionTranscript []byte, docType string, deviceNameSpacesBytes []byte) ([]byte, error) {
	t, err := mdoc.WrapCBOR([]any{
		"DeviceAuthentication",
		cbor.RawMessage(sessionTranscript),
		docType,
		cbor.RawMessage(deviceNameSpacesBytes),
	})
	if err != nil {
		return nil, fmt.Errorf("encoding DeviceAuthentication: %w", err)
	}
	return t.Raw, nil
}

// DeviceSignature signs DeviceAuthenticationBytes with the device key:
// COSE_Sign1 [<<{1: alg}>>, {}, null, signature] with a detached payload
// (18013-5 9.1.3).
func DeviceSignature(r io.Reader, key crypto.Signer, deviceAuthenticationBytes []byte) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	alg, _, _, err := signAlg(key.Public())
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	protected, err := protectedAlg(alg)
	if err != nil {
		return nil, err
	}
	sig, err := coseSign(r, key, protected, deviceAuthenticationBytes)
	if err != nil {
		return nil, fmt.Errorf("signing DeviceAuthentication: %w", err)
	}
	return mdoc.Marshal(coseSign1{Protected: protected, Unprotected: emptyMap, Payload: nil, Signature: sig})
}

// DeviceMAC makes deviceMac: COSE_Mac0 [<<{1: 5}>>, {}, null, tag] with
// tag = HMAC-SHA256(EMacKey, ["MAC0", protected, empty bstr,
// DeviceAuthenticationBytes]) and EMacKey = HKDF(ECDH(device key, EReaderKey),
// SHA-256(SessionTranscriptBytes), "EMacKey") (18013-5 9.1.3.5).
func DeviceMAC(key crypto.Signer, readerKey *ecdh.PublicKey, sessionTranscriptBytes, deviceAuthenticationBytes []byte) ([]byte, error) {
	if readerKey == nil {
		return nil, errors.New("credential: deviceMac needs the reader's ephemeral key")
	}
	ek, ok := key.(interface {
		ECDH() (*ecdh.PrivateKey, error)
	})
	if !ok {
		return nil, fmt.Errorf("credential: device key %T cannot do key agreement", key)
	}
	priv, err := ek.ECDH()
	if err != nil {
		return nil, fmt.Errorf("credential: device key: %w", err)
	}
	z, err := priv.ECDH(readerKey)
	if err != nil {
		return nil, fmt.Errorf("credential: ECDH with the reader key: %w", err)
	}
	emacKey, err := session.DeriveKey(z, sessionTranscriptBytes, session.InfoEMacKey)
	if err != nil {
		return nil, fmt.Errorf("deriving EMacKey: %w", err)
	}
	protected, err := protectedAlg(algHMAC256)
	if err != nil {
		return nil, err
	}
	tag, err := mac0Tag(emacKey, protected, deviceAuthenticationBytes)
	if err != nil {
		return nil, err
	}
	return mdoc.Marshal(coseMac0{Protected: protected, Unprotected: emptyMap, Payload: nil, Tag: tag})
}

// freshKeyLike makes a new key of the same kind as key.
func freshKeyLike(r io.Reader, key crypto.Signer) (crypto.Signer, error) {
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		return ecdsa.GenerateKey(k.Curve, r)
	case ed25519.PublicKey:
		_, priv, err := ed25519.GenerateKey(r)
		return priv, err
	}
	return nil, fmt.Errorf("credential: unsupported device key %T", key)
}

// tamper re-encodes an IssuerSignedItemBytes with a changed elementValue.
func tamper(itemBytes []byte) ([]byte, error) {
	t, err := mdoc.ParseTaggedCBOR(itemBytes)
	if err != nil {
		return nil, err
	}
	var it itemWire
	if err := t.Decode(&it); err != nil {
		return nil, err
	}
	var v any
	if err := mdoc.Unmarshal(it.ElementValue, &v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case bool:
		v = !x
	case string:
		v = x + "X"
	case uint64:
		v = x + 1
	case int64:
		v = x + 1
	case []byte:
		v = append(append([]byte(nil), x...), 0)
	default:
		v = "tampered"
	}
	nt, err := mdoc.WrapCBOR(issuerSignedItem{DigestID: it.DigestID, Random: it.Random, ElementIdentifier: it.ElementIdentifier, ElementValue: v})
	if err != nil {
		return nil, err
	}
	return nt.Raw, nil
}

// DocRequest is what the wallet needs of one ItemsRequest: the docType and
// the requested elements (namespace → element → IntentToRetain).
type DocRequest struct {
	DocType    string
	NameSpaces map[string]map[string]bool
}

// Respond answers a DeviceRequest: for each request it presents the first
// credential of that docType (opts.Requested is replaced by the request's
// namespaces), and it lists the docTypes it does not hold in
// documentErrors with code 0. The result is the encoded DeviceResponse with
// status 0.
func Respond(creds []*Credential, reqs []DocRequest, opts PresentOptions) ([]byte, error) {
	var docs [][]byte
	var missing map[string]int
	for _, req := range reqs {
		var cred *Credential
		for _, c := range creds {
			if c.DocType == req.DocType {
				cred = c
				break
			}
		}
		if cred == nil {
			if missing == nil {
				missing = map[string]int{}
			}
			missing[req.DocType] = ErrorCodeDataNotReturned
			continue
		}
		o := opts
		o.Requested = req.NameSpaces
		d, err := cred.Present(o)
		if err != nil {
			return nil, fmt.Errorf("presenting %s: %w", req.DocType, err)
		}
		docs = append(docs, d)
	}
	return DeviceResponse(StatusOK, missing, docs...)
}

// DeviceResponse status codes (18013-5 8.3.2.1.2.3).
const (
	StatusOK                  = 0
	StatusGeneralError        = 10
	StatusCBORDecodingError   = 11
	StatusCBORValidationError = 12
)

// DeviceResponse encodes {"version": "1.0", ? "documents": [+ Document],
// ? "documentErrors": [+ {docType => code}], "status": status}
// (18013-5 8.3.2.1.2.2). documents are encoded Documents from
// [Credential.Present], embedded unchanged; documentErrors lists one map
// per docType, sorted.
func DeviceResponse(status uint, documentErrors map[string]int, documents ...[]byte) ([]byte, error) {
	w := deviceResponseWire{Version: "1.0", Status: status}
	for _, d := range documents {
		w.Documents = append(w.Documents, d)
	}
	dts := make([]string, 0, len(documentErrors))
	for dt := range documentErrors {
		dts = append(dts, dt)
	}
	sort.Strings(dts)
	for _, dt := range dts {
		w.DocumentErrors = append(w.DocumentErrors, map[string]int{dt: documentErrors[dt]})
	}
	out, err := mdoc.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encoding DeviceResponse: %w", err)
	}
	return out, nil
}
