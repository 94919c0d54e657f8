package session

import (
	"bytes"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/idreader/idreader/mdoc"
)

// cborNull is the encoded CBOR null (RFC 8949 3.3).
var cborNull = []byte{0xf6}

// Handover is the third SessionTranscript item (ISO/IEC 18013-5 clause
// 9.1.5.1), held encoded:
//
//	Handover = QRHandover / NFCHandover
//	QRHandover  = null
//	NFCHandover = [HandoverSelect: bstr, HandoverRequest: bstr / null]
//
// Other forms (ISO/IEC 18013-7) can be set in Raw directly.
type Handover struct {
	Raw []byte
}

// QRHandover is the handover of a QR device engagement: null.
func QRHandover() Handover { return Handover{Raw: cborNull} }

// NFCHandover is [Hs, Hr] for negotiated handover or [Hs, null] for static
// handover (hr == nil). hs and hr are the full NDEF messages exactly as they
// went over the air.
func NFCHandover(hs, hr []byte) (Handover, error) {
	if len(hs) == 0 {
		return Handover{}, fmt.Errorf("session: NFC handover without a Handover Select message")
	}
	var second any
	if hr != nil {
		second = hr
	}
	raw, err := mdoc.Marshal([]any{hs, second})
	if err != nil {
		return Handover{}, fmt.Errorf("encoding NFC handover: %w", err)
	}
	return Handover{Raw: raw}, nil
}

// NFC returns the Handover Select and Handover Request messages of an NFC
// handover; hr is nil for static handover. ok is false for other forms.
func (h Handover) NFC() (hs, hr []byte, ok bool) {
	var items []cbor.RawMessage
	if mdoc.Unmarshal(h.Raw, &items) != nil || len(items) != 2 {
		return nil, nil, false
	}
	if mdoc.Unmarshal(items[0], &hs) != nil || hs == nil {
		return nil, nil, false
	}
	if !bytes.Equal(items[1], cborNull) {
		if mdoc.Unmarshal(items[1], &hr) != nil || hr == nil {
			return nil, nil, false
		}
	}
	return hs, hr, true
}

// IsQR reports whether h is the QR handover (null).
func (h Handover) IsQR() bool { return bytes.Equal(h.Raw, cborNull) }

// SessionTranscript is ISO/IEC 18013-5 clause 9.1.5.1:
//
//	SessionTranscript = [DeviceEngagementBytes, EReaderKeyBytes, Handover]
//	SessionTranscriptBytes = #6.24(bstr .cbor SessionTranscript)
//
// The first two items are inline tag-24 items. All three are kept exactly as
// given, and so are the encoded array and its tag-24 wrapping.
type SessionTranscript struct {
	// DeviceEngagementBytes and EReaderKeyBytes have an empty Raw when the
	// transcript holds null there (ISO/IEC 18013-7 forms).
	DeviceEngagementBytes mdoc.TaggedCBOR
	EReaderKeyBytes       mdoc.TaggedCBOR
	Handover              Handover

	array  []byte // the encoded SessionTranscript array
	tagged []byte // SessionTranscriptBytes
}

// NewSessionTranscript builds the transcript from the exact
// DeviceEngagementBytes, EReaderKeyBytes and handover.
func NewSessionTranscript(deviceEngagementBytes, eReaderKeyBytes mdoc.TaggedCBOR, h Handover) (*SessionTranscript, error) {
	if len(deviceEngagementBytes.Raw) == 0 || len(eReaderKeyBytes.Raw) == 0 {
		return nil, fmt.Errorf("session: transcript needs DeviceEngagementBytes and EReaderKeyBytes")
	}
	if len(h.Raw) == 0 {
		return nil, fmt.Errorf("session: transcript without handover")
	}
	array, err := mdoc.Marshal([]cbor.RawMessage{deviceEngagementBytes.Raw, eReaderKeyBytes.Raw, h.Raw})
	if err != nil {
		return nil, fmt.Errorf("encoding SessionTranscript: %w", err)
	}
	tagged, err := mdoc.NewTaggedCBOR(array)
	if err != nil {
		return nil, fmt.Errorf("encoding SessionTranscriptBytes: %w", err)
	}
	return &SessionTranscript{
		DeviceEngagementBytes: deviceEngagementBytes,
		EReaderKeyBytes:       eReaderKeyBytes,
		Handover:              Handover{Raw: append([]byte(nil), h.Raw...)},
		array:                 array,
		tagged:                tagged.Raw,
	}, nil
}

// ParseSessionTranscript reads a SessionTranscript given either as
// SessionTranscriptBytes (tag 24) or as the bare array. The bytes are kept:
// [SessionTranscript.Bytes] and [SessionTranscript.ArrayBytes] return them.
func ParseSessionTranscript(data []byte) (*SessionTranscript, error) {
	st := &SessionTranscript{}
	array := data
	if len(data) > 0 && data[0] == 0xd8 { // tag with a one-byte number: tag 24
		t, err := mdoc.ParseTaggedCBOR(data)
		if err != nil {
			return nil, fmt.Errorf("decoding SessionTranscriptBytes: %w", err)
		}
		st.tagged = t.Raw
		array = t.Inner
	}
	var items []cbor.RawMessage
	if err := mdoc.Unmarshal(array, &items); err != nil {
		return nil, fmt.Errorf("decoding SessionTranscript: %w", err)
	}
	if len(items) != 3 {
		return nil, fmt.Errorf("%w: SessionTranscript has %d items, want 3", mdoc.ErrMalformed, len(items))
	}
	for i, dst := range []*mdoc.TaggedCBOR{&st.DeviceEngagementBytes, &st.EReaderKeyBytes} {
		if bytes.Equal(items[i], cborNull) {
			continue
		}
		t, err := mdoc.ParseTaggedCBOR(items[i])
		if err != nil {
			return nil, fmt.Errorf("decoding SessionTranscript item %d: %w", i, err)
		}
		*dst = t
	}
	st.Handover = Handover{Raw: items[2]}
	st.array = append([]byte(nil), array...)
	if st.tagged == nil {
		t, err := mdoc.NewTaggedCBOR(st.array)
		if err != nil {
			return nil, err
		}
		st.tagged = t.Raw
	}
	return st, nil
}

// Bytes returns SessionTranscriptBytes, the tag-24 wrapped transcript: the
// HKDF salt input (clause 9.1.1.5).
func (st *SessionTranscript) Bytes() []byte { return st.tagged }

// ArrayBytes returns the encoded SessionTranscript array, the form embedded in
// DeviceAuthentication and ReaderAuthentication.
func (st *SessionTranscript) ArrayBytes() []byte { return st.array }
