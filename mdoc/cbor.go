package mdoc

import (
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// MaxMessageSize bounds every CBOR input this package decodes. A byte string
// can never be longer than its input, so this is also the byte-string limit.
// 4 MiB leaves room for several portraits and biometric templates.
const MaxMessageSize = 4 << 20

// Decoding limits for hostile input: nesting depth, array and map sizes.
const (
	maxNestedLevels  = 24
	maxArrayElements = 4096
	maxMapPairs      = 4096
)

// ErrMalformed is wrapped by every decoding error of this package: the input is
// not well-formed CBOR, breaks a limit, or does not have the shape the
// 18013-5 CDDL requires.
var ErrMalformed = errors.New("mdoc: malformed")

// The two fixed CBOR modes of the project. decMode rejects duplicate map keys,
// indefinite lengths and invalid UTF-8, and bounds nesting and container sizes;
// encMode is the core deterministic encoding of RFC 8949 section 4.2.1
// (as ISO/IEC 18013-5 clause 8.1 asks for).
var (
	decMode cbor.DecMode
	encMode cbor.EncMode
)

func init() {
	var err error
	decMode, err = cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  maxNestedLevels,
		MaxArrayElements: maxArrayElements,
		MaxMapPairs:      maxMapPairs,
		IndefLength:      cbor.IndefLengthForbidden,
		UTF8:             cbor.UTF8RejectInvalid,
		IntDec:           cbor.IntDecConvertSignedOrFail,
		DefaultMapType:   nil,
		// 18013-5 map keys are case-sensitive: "DOCTYPE" is not "docType".
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	encMode, err = cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
}

// Unmarshal decodes data into v with the project's fixed decode mode. Trailing
// bytes, oversize input and every decode error are reported wrapping
// [ErrMalformed].
func Unmarshal(data []byte, v any) error {
	if len(data) > MaxMessageSize {
		return fmt.Errorf("%w: %d bytes exceed the %d-byte limit", ErrMalformed, len(data), MaxMessageSize)
	}
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// Marshal encodes v with the project's deterministic encode mode.
func Marshal(v any) ([]byte, error) {
	return encMode.Marshal(v)
}

// DecMode returns the fixed decode mode, for packages (such as go-cose) that
// take a cbor.DecMode.
func DecMode() cbor.DecMode { return decMode }

// EncMode returns the fixed deterministic encode mode.
func EncMode() cbor.EncMode { return encMode }

// tagEncodedCBOR is CBOR tag 24, "encoded CBOR data item" (RFC 8949 3.4.5.1).
const tagEncodedCBOR = 24

// TaggedCBOR is #6.24(bstr .cbor X): an embedded CBOR data item such as
// DeviceEngagementBytes, EReaderKeyBytes, IssuerSignedItemBytes or
// MobileSecurityObjectBytes. Raw is the whole item exactly as received (tag
// header, byte-string header and content); Inner is the content, the encoded X.
// Both are kept so that hashes and signatures run over received bytes.
type TaggedCBOR struct {
	Raw   []byte
	Inner []byte
}

// NewTaggedCBOR wraps the already-encoded item inner in tag 24.
func NewTaggedCBOR(inner []byte) (TaggedCBOR, error) {
	raw, err := encMode.Marshal(cbor.Tag{Number: tagEncodedCBOR, Content: inner})
	if err != nil {
		return TaggedCBOR{}, err
	}
	return TaggedCBOR{Raw: raw, Inner: append([]byte(nil), inner...)}, nil
}

// WrapCBOR encodes v deterministically and wraps it in tag 24.
func WrapCBOR(v any) (TaggedCBOR, error) {
	inner, err := encMode.Marshal(v)
	if err != nil {
		return TaggedCBOR{}, err
	}
	return NewTaggedCBOR(inner)
}

// ParseTaggedCBOR reads one tag-24 item from data, which must hold exactly
// that item. The content must itself be one well-formed CBOR item.
func ParseTaggedCBOR(data []byte) (TaggedCBOR, error) {
	var t TaggedCBOR
	if err := t.UnmarshalCBOR(data); err != nil {
		return TaggedCBOR{}, err
	}
	return t, nil
}

// UnmarshalCBOR implements cbor.Unmarshaler, keeping data as Raw.
func (t *TaggedCBOR) UnmarshalCBOR(data []byte) error {
	var raw cbor.RawTag
	if err := Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("decoding tag-24 item: %w", err)
	}
	if raw.Number != tagEncodedCBOR {
		return fmt.Errorf("%w: tag %d where tag 24 (encoded CBOR) is required", ErrMalformed, raw.Number)
	}
	var inner []byte
	if err := Unmarshal(raw.Content, &inner); err != nil {
		return fmt.Errorf("%w: tag 24 content is not a byte string", ErrMalformed)
	}
	if err := decMode.Wellformed(inner); err != nil {
		return fmt.Errorf("%w: tag 24 content is not one CBOR item: %v", ErrMalformed, err)
	}
	t.Raw = append([]byte(nil), data...)
	t.Inner = inner
	return nil
}

// MarshalCBOR implements cbor.Marshaler, writing Raw unchanged.
func (t TaggedCBOR) MarshalCBOR() ([]byte, error) {
	if len(t.Raw) == 0 {
		return nil, fmt.Errorf("mdoc: empty tag-24 item")
	}
	return t.Raw, nil
}

// Decode decodes the embedded item into v.
func (t TaggedCBOR) Decode(v any) error {
	return Unmarshal(t.Inner, v)
}
