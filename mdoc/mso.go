package mdoc

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Digest algorithm identifiers of the MSO (ISO/IEC 18013-5 clause 9.1.2.4).
const (
	DigestSHA256 = "SHA-256"
	DigestSHA384 = "SHA-384"
	DigestSHA512 = "SHA-512"
)

// MSOVersion is the only MobileSecurityObject version defined (clause 9.1.2.4).
const MSOVersion = "1.0"

// MSO is the MobileSecurityObject, the issuer-signed payload of issuerAuth
// (ISO/IEC 18013-5 clause 9.1.2.4):
//
//	MobileSecurityObject = {"version": tstr, "digestAlgorithm": tstr,
//	    "valueDigests": ValueDigests, "deviceKeyInfo": DeviceKeyInfo,
//	    "docType": tstr, "validityInfo": ValidityInfo}
//	ValueDigests = {+ NameSpace => {+ DigestID => Digest}}
type MSO struct {
	Version         string
	DigestAlgorithm string
	ValueDigests    map[string]map[uint64][]byte
	DeviceKeyInfo   DeviceKeyInfo
	DocType         string
	ValidityInfo    ValidityInfo
}

// DeviceKeyInfo is the mdoc authentication key and what it may sign
// (clause 9.1.2.4):
//
//	DeviceKeyInfo = {"deviceKey": DeviceKey, ? "keyAuthorizations": KeyAuthorizations,
//	                 ? "keyInfo": {+ int => any}}
type DeviceKeyInfo struct {
	DeviceKey *COSEKey
	// KeyAuthorizations is nil when absent: then the device key authorizes no
	// device-signed element.
	KeyAuthorizations *KeyAuthorizations
	KeyInfo           map[int64]cbor.RawMessage
}

// KeyAuthorizations lists the namespaces and elements the device key may sign
// (clause 9.1.2.4):
//
//	KeyAuthorizations = {? "nameSpaces": [+ NameSpace], ? "dataElements": {+ NameSpace => [+ DataElementIdentifier]}}
type KeyAuthorizations struct {
	NameSpaces   []string            `cbor:"nameSpaces,omitempty"`
	DataElements map[string][]string `cbor:"dataElements,omitempty"`
}

// Authorizes reports whether the device key may sign element id of namespace
// ns: the namespace is authorized as a whole or the element is listed.
func (k *KeyAuthorizations) Authorizes(ns, id string) bool {
	if k == nil {
		return false
	}
	for _, n := range k.NameSpaces {
		if n == ns {
			return true
		}
	}
	for _, e := range k.DataElements[ns] {
		if e == id {
			return true
		}
	}
	return false
}

// ValidityInfo is the MSO validity (clause 9.1.2.4); every field is a tdate.
//
//	ValidityInfo = {"signed": tdate, "validFrom": tdate, "validUntil": tdate, ? "expectedUpdate": tdate}
type ValidityInfo struct {
	Signed     TDate
	ValidFrom  TDate
	ValidUntil TDate
	// Expected is expectedUpdate, nil when absent.
	Expected *TDate
}

type msoWire struct {
	Version         *string                      `cbor:"version"`
	DigestAlgorithm *string                      `cbor:"digestAlgorithm"`
	ValueDigests    map[string]map[uint64][]byte `cbor:"valueDigests"`
	DeviceKeyInfo   *deviceKeyInfoWire           `cbor:"deviceKeyInfo"`
	DocType         *string                      `cbor:"docType"`
	ValidityInfo    *validityInfoWire            `cbor:"validityInfo"`
}

type deviceKeyInfoWire struct {
	DeviceKey         cbor.RawMessage           `cbor:"deviceKey"`
	KeyAuthorizations *KeyAuthorizations        `cbor:"keyAuthorizations,omitempty"`
	KeyInfo           map[int64]cbor.RawMessage `cbor:"keyInfo,omitempty"`
}

type validityInfoWire struct {
	Signed     *TDate `cbor:"signed"`
	ValidFrom  *TDate `cbor:"validFrom"`
	ValidUntil *TDate `cbor:"validUntil"`
	Expected   *TDate `cbor:"expectedUpdate,omitempty"`
}

// ParseMobileSecurityObjectBytes decodes MobileSecurityObjectBytes =
// #6.24(bstr .cbor MobileSecurityObject), the issuerAuth payload.
func ParseMobileSecurityObjectBytes(data []byte) (*MSO, error) {
	t, err := ParseTaggedCBOR(data)
	if err != nil {
		return nil, fmt.Errorf("decoding MobileSecurityObjectBytes: %w", err)
	}
	return ParseMSO(t.Inner)
}

// ParseMSO decodes a MobileSecurityObject map. It checks shape only (required
// fields, tag-0 dates, a usable deviceKey); the verifier checks the values.
func ParseMSO(data []byte) (*MSO, error) {
	var w msoWire
	if err := Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decoding MobileSecurityObject: %w", err)
	}
	switch {
	case w.Version == nil:
		return nil, fmt.Errorf("%w: MSO without version", ErrMalformed)
	case w.DigestAlgorithm == nil:
		return nil, fmt.Errorf("%w: MSO without digestAlgorithm", ErrMalformed)
	case w.ValueDigests == nil:
		return nil, fmt.Errorf("%w: MSO without valueDigests", ErrMalformed)
	case w.DeviceKeyInfo == nil || w.DeviceKeyInfo.DeviceKey == nil:
		return nil, fmt.Errorf("%w: MSO without deviceKeyInfo.deviceKey", ErrMalformed)
	case w.DocType == nil:
		return nil, fmt.Errorf("%w: MSO without docType", ErrMalformed)
	case w.ValidityInfo == nil:
		return nil, fmt.Errorf("%w: MSO without validityInfo", ErrMalformed)
	case w.ValidityInfo.Signed == nil || w.ValidityInfo.ValidFrom == nil || w.ValidityInfo.ValidUntil == nil:
		return nil, fmt.Errorf("%w: MSO validityInfo without signed, validFrom or validUntil", ErrMalformed)
	}
	key, err := ParseCOSEKey(w.DeviceKeyInfo.DeviceKey)
	if err != nil {
		return nil, fmt.Errorf("reading MSO deviceKey: %w", err)
	}
	return &MSO{
		Version:         *w.Version,
		DigestAlgorithm: *w.DigestAlgorithm,
		ValueDigests:    w.ValueDigests,
		DeviceKeyInfo: DeviceKeyInfo{
			DeviceKey:         key,
			KeyAuthorizations: w.DeviceKeyInfo.KeyAuthorizations,
			KeyInfo:           w.DeviceKeyInfo.KeyInfo,
		},
		DocType: *w.DocType,
		ValidityInfo: ValidityInfo{
			Signed:     *w.ValidityInfo.Signed,
			ValidFrom:  *w.ValidityInfo.ValidFrom,
			ValidUntil: *w.ValidityInfo.ValidUntil,
			Expected:   w.ValidityInfo.Expected,
		},
	}, nil
}

// MarshalCBOR encodes the MSO deterministically, for an issuer; deviceKey is
// written from DeviceKey.Raw.
func (m *MSO) MarshalCBOR() ([]byte, error) {
	if m.DeviceKeyInfo.DeviceKey == nil || len(m.DeviceKeyInfo.DeviceKey.Raw) == 0 {
		return nil, fmt.Errorf("mdoc: MSO without an encoded deviceKey")
	}
	vi := m.ValidityInfo
	return encMode.Marshal(msoWire{
		Version:         &m.Version,
		DigestAlgorithm: &m.DigestAlgorithm,
		ValueDigests:    m.ValueDigests,
		DeviceKeyInfo: &deviceKeyInfoWire{
			DeviceKey:         m.DeviceKeyInfo.DeviceKey.Raw,
			KeyAuthorizations: m.DeviceKeyInfo.KeyAuthorizations,
			KeyInfo:           m.DeviceKeyInfo.KeyInfo,
		},
		DocType:      &m.DocType,
		ValidityInfo: &validityInfoWire{Signed: &vi.Signed, ValidFrom: &vi.ValidFrom, ValidUntil: &vi.ValidUntil, Expected: vi.Expected},
	})
}
