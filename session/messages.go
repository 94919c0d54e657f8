package session

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/idreader/idreader/mdoc"
)

// Status is the SessionData status code (ISO/IEC 18013-5 clause 9.1.1.4,
// table 20).
type Status uint64

// SessionData status codes.
const (
	// StatusEncryptionError: session encryption error.
	StatusEncryptionError Status = 10
	// StatusDecodingError: CBOR decoding error.
	StatusDecodingError Status = 11
	// StatusTermination: session termination.
	StatusTermination Status = 20
)

// String names the defined status codes.
func (s Status) String() string {
	switch s {
	case StatusEncryptionError:
		return "session encryption error"
	case StatusDecodingError:
		return "CBOR decoding error"
	case StatusTermination:
		return "session termination"
	}
	return fmt.Sprintf("status %d", uint64(s))
}

// SessionEstablishment is the reader's first message (ISO/IEC 18013-5
// clause 9.1.1.4):
//
//	SessionEstablishment = {"eReaderKey": EReaderKeyBytes, "data": bstr}
//
// Data is the encrypted DeviceRequest.
type SessionEstablishment struct {
	EReaderKeyBytes mdoc.TaggedCBOR `cbor:"eReaderKey"`
	Data            []byte          `cbor:"data"`
}

// ParseSessionEstablishment decodes a SessionEstablishment; both keys are
// required and EReaderKeyBytes is kept exactly as received.
func ParseSessionEstablishment(data []byte) (*SessionEstablishment, error) {
	var keys map[string]cbor.RawMessage
	if err := mdoc.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("decoding SessionEstablishment: %w", err)
	}
	for _, k := range []string{"eReaderKey", "data"} {
		if _, ok := keys[k]; !ok {
			return nil, fmt.Errorf("%w: SessionEstablishment without %q", mdoc.ErrMalformed, k)
		}
	}
	var m SessionEstablishment
	if err := mdoc.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decoding SessionEstablishment: %w", err)
	}
	if m.Data == nil { // "data": null; an empty bstr decodes non-nil
		return nil, fmt.Errorf("%w: SessionEstablishment data is not a byte string", mdoc.ErrMalformed)
	}
	return &m, nil
}

// Marshal encodes the message with the keys in CDDL order, eReaderKey then
// data, as ISO/IEC 18013-5 Annex D.5.1 shows it (length-first deterministic
// order would put "data" first; readers accept either).
func (m *SessionEstablishment) Marshal() ([]byte, error) {
	if len(m.EReaderKeyBytes.Raw) == 0 {
		return nil, fmt.Errorf("session: SessionEstablishment without eReaderKey")
	}
	data := m.Data
	if data == nil {
		data = []byte{}
	}
	key, err := mdoc.Marshal("eReaderKey")
	if err != nil {
		return nil, err
	}
	dataKey, err := mdoc.Marshal("data")
	if err != nil {
		return nil, err
	}
	ct, err := mdoc.Marshal(data)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+len(key)+len(m.EReaderKeyBytes.Raw)+len(dataKey)+len(ct))
	out = append(out, 0xa2) // map of two pairs
	out = append(out, key...)
	out = append(out, m.EReaderKeyBytes.Raw...)
	out = append(out, dataKey...)
	return append(out, ct...), nil
}

// SessionData carries every later message in either direction (ISO/IEC
// 18013-5 clause 9.1.1.4):
//
//	SessionData = {? "data": bstr, ? "status": uint}
//
// Data is ciphertext; nil when absent. HasStatus tells whether status is present.
type SessionData struct {
	Data      []byte
	Status    Status
	HasStatus bool
}

type sessionDataWire struct {
	Data   []byte  `cbor:"data,omitempty"`
	Status *Status `cbor:"status,omitempty"`
}

// ParseSessionData decodes a SessionData. At least one of data and status must
// be present.
func ParseSessionData(data []byte) (*SessionData, error) {
	var w sessionDataWire
	if err := mdoc.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decoding SessionData: %w", err)
	}
	// An empty byte string decodes to a non-nil empty slice, so nil means absent.
	if w.Data == nil && w.Status == nil {
		return nil, fmt.Errorf("%w: SessionData without data or status", mdoc.ErrMalformed)
	}
	m := &SessionData{Data: w.Data, HasStatus: w.Status != nil}
	if w.Status != nil {
		m.Status = *w.Status
	}
	return m, nil
}

// Marshal encodes the message deterministically. A nil Data is left out.
func (m *SessionData) Marshal() ([]byte, error) {
	if m.Data == nil && !m.HasStatus {
		return nil, fmt.Errorf("session: SessionData without data or status")
	}
	w := make(map[string]any, 2)
	if m.Data != nil {
		w["data"] = m.Data
	}
	if m.HasStatus {
		w["status"] = uint64(m.Status)
	}
	return mdoc.Marshal(w)
}
