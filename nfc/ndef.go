package nfc

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrMalformedNDEF is wrapped by every NDEF record and message parsing error.
var ErrMalformedNDEF = errors.New("nfc: malformed ndef")

// TNF is the 3-bit Type Name Format of an NDEF record (NFC Forum NDEF 1.0
// clause 3.2.6).
type TNF uint8

// Type Name Format values (NFC Forum NDEF 1.0 clause 3.2.6).
const (
	TNFEmpty       TNF = 0x00
	TNFWellKnown   TNF = 0x01
	TNFMedia       TNF = 0x02
	TNFAbsoluteURI TNF = 0x03
	TNFExternal    TNF = 0x04
	TNFUnknown     TNF = 0x05
	TNFUnchanged   TNF = 0x06
	tnfReserved    TNF = 0x07
)

// NDEF record header flags (NFC Forum NDEF 1.0 clause 3.2).
const (
	flagMB  byte = 0x80 // message begin
	flagME  byte = 0x40 // message end
	flagCF  byte = 0x20 // chunk flag
	flagSR  byte = 0x10 // short record: 1-byte payload length
	flagIL  byte = 0x08 // ID length present
	tnfMask byte = 0x07
)

// Record is one NDEF record (NFC Forum NDEF 1.0 clause 3.2). A chunked
// record is reassembled into one Record by ParseMessage.
type Record struct {
	TNF     TNF
	Type    []byte
	ID      []byte
	Payload []byte
}

// Is reports whether r has the given TNF and type.
func (r Record) Is(tnf TNF, typ string) bool {
	return r.TNF == tnf && string(r.Type) == typ
}

// Message is an NDEF message: one or more records (NFC Forum NDEF 1.0 clause
// 3.1).
type Message []Record

// ParseMessage decodes exactly one NDEF message. It is strict: MB must be set
// on the first record only, ME on the last only, no bytes may follow, lengths
// must fit, chunked records (CF) must be well formed (middle and terminating
// chunks have TNF 6, no type and no ID) and are reassembled, and TNF 0
// records must be empty. Unchunked types, IDs and payloads alias b.
func ParseMessage(b []byte) (Message, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrMalformedNDEF)
	}
	var (
		msg      Message
		chunking bool // inside a chunked record
		chunk    Record
		first    = true
	)
	c := cursor(b)
	for {
		var hdr, typeLen byte
		var payloadLen uint32
		if !c.u8(&hdr) || !c.u8(&typeLen) {
			return nil, fmt.Errorf("%w: truncated record header", ErrMalformedNDEF)
		}
		if hdr&flagSR != 0 {
			var l byte
			if !c.u8(&l) {
				return nil, fmt.Errorf("%w: truncated payload length", ErrMalformedNDEF)
			}
			payloadLen = uint32(l)
		} else if !c.u32(&payloadLen) {
			return nil, fmt.Errorf("%w: truncated payload length", ErrMalformedNDEF)
		}
		var idLen byte
		if hdr&flagIL != 0 && !c.u8(&idLen) {
			return nil, fmt.Errorf("%w: truncated id length", ErrMalformedNDEF)
		}
		var r Record
		r.TNF = TNF(hdr & tnfMask)
		if !c.bytes(&r.Type, int(typeLen)) || !c.bytes(&r.ID, int(idLen)) {
			return nil, fmt.Errorf("%w: truncated record", ErrMalformedNDEF)
		}
		if uint64(payloadLen) > uint64(len(c)) {
			return nil, fmt.Errorf("%w: payload length %d exceeds the %d bytes left", ErrMalformedNDEF, payloadLen, len(c))
		}
		c.bytes(&r.Payload, int(payloadLen))
		if len(r.ID) == 0 {
			r.ID = nil
		}
		if len(r.Type) == 0 {
			r.Type = nil
		}

		if first != (hdr&flagMB != 0) {
			if first {
				return nil, fmt.Errorf("%w: first record lacks MB", ErrMalformedNDEF)
			}
			return nil, fmt.Errorf("%w: MB set on record %d", ErrMalformedNDEF, len(msg)+1)
		}
		first = false
		last := hdr&flagME != 0
		if err := checkRecordFields(r, hdr, chunking); err != nil {
			return nil, err
		}
		switch {
		case chunking:
			chunk.Payload = append(chunk.Payload, r.Payload...)
			if hdr&flagCF == 0 {
				chunking = false
				msg = append(msg, chunk)
				chunk = Record{}
			}
		case hdr&flagCF != 0:
			chunking = true
			chunk = Record{TNF: r.TNF, Type: r.Type, ID: r.ID, Payload: append([]byte(nil), r.Payload...)}
		default:
			msg = append(msg, r)
		}
		if last {
			if chunking {
				return nil, fmt.Errorf("%w: ME set inside a chunked record", ErrMalformedNDEF)
			}
			if len(c) != 0 {
				return nil, fmt.Errorf("%w: %d bytes after ME", ErrMalformedNDEF, len(c))
			}
			return msg, nil
		}
		if len(c) == 0 {
			return nil, fmt.Errorf("%w: last record lacks ME", ErrMalformedNDEF)
		}
	}
}

func checkRecordFields(r Record, hdr byte, chunking bool) error {
	if chunking {
		if r.TNF != TNFUnchanged || len(r.Type) != 0 || hdr&flagIL != 0 {
			return fmt.Errorf("%w: bad middle or terminating chunk", ErrMalformedNDEF)
		}
		return nil
	}
	switch r.TNF {
	case TNFEmpty:
		if len(r.Type) != 0 || len(r.ID) != 0 || len(r.Payload) != 0 {
			return fmt.Errorf("%w: empty record with content", ErrMalformedNDEF)
		}
	case TNFUnchanged:
		return fmt.Errorf("%w: TNF unchanged outside a chunked record", ErrMalformedNDEF)
	case tnfReserved:
		return fmt.Errorf("%w: reserved TNF 7", ErrMalformedNDEF)
	case TNFUnknown:
		if len(r.Type) != 0 {
			return fmt.Errorf("%w: unknown TNF with a type", ErrMalformedNDEF)
		}
	default:
		if len(r.Type) == 0 {
			return fmt.Errorf("%w: TNF %d without a type", ErrMalformedNDEF, r.TNF)
		}
	}
	return nil
}

// Encode returns the NDEF message bytes. Each record is written unchunked,
// as a short record (SR) when its payload is under 256 bytes and with an ID
// length (IL) only when it has an ID; MB and ME are set on the first and last
// records. It fails on an empty message and on types or IDs over 255 bytes.
func (m Message) Encode() ([]byte, error) {
	if len(m) == 0 {
		return nil, fmt.Errorf("%w: empty message", ErrMalformedNDEF)
	}
	var out []byte
	for i, r := range m {
		if len(r.Type) > 255 || len(r.ID) > 255 || uint64(len(r.Payload)) > 0xFFFFFFFF {
			return nil, fmt.Errorf("%w: record %d field too long", ErrMalformedNDEF, i)
		}
		if r.TNF > TNFUnknown {
			return nil, fmt.Errorf("%w: record %d has TNF %d", ErrMalformedNDEF, i, r.TNF)
		}
		hdr := byte(r.TNF)
		if i == 0 {
			hdr |= flagMB
		}
		if i == len(m)-1 {
			hdr |= flagME
		}
		short := len(r.Payload) < 256
		if short {
			hdr |= flagSR
		}
		if len(r.ID) > 0 {
			hdr |= flagIL
		}
		out = append(out, hdr, byte(len(r.Type)))
		if short {
			out = append(out, byte(len(r.Payload)))
		} else {
			n := uint32(len(r.Payload))
			out = append(out, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		}
		if len(r.ID) > 0 {
			out = append(out, byte(len(r.ID)))
		}
		out = append(out, r.Type...)
		out = append(out, r.ID...)
		out = append(out, r.Payload...)
	}
	return out, nil
}

// Find returns the first record with the given TNF and type.
func (m Message) Find(tnf TNF, typ string) (Record, bool) {
	for _, r := range m {
		if r.Is(tnf, typ) {
			return r, true
		}
	}
	return Record{}, false
}

// FindID returns the first record whose ID is id (Connection Handover 1.5
// carrier data and auxiliary data references name records by ID).
func (m Message) FindID(id []byte) (Record, bool) {
	if len(id) == 0 {
		return Record{}, false
	}
	for _, r := range m {
		if bytes.Equal(r.ID, id) {
			return r, true
		}
	}
	return Record{}, false
}

// cursor is a cryptobyte-style reader: each read reports success and
// advances only when it succeeds.
type cursor []byte

func (c *cursor) u8(v *byte) bool {
	if len(*c) < 1 {
		return false
	}
	*v = (*c)[0]
	*c = (*c)[1:]
	return true
}

func (c *cursor) u16(v *uint16) bool {
	if len(*c) < 2 {
		return false
	}
	*v = uint16((*c)[0])<<8 | uint16((*c)[1])
	*c = (*c)[2:]
	return true
}

func (c *cursor) u32(v *uint32) bool {
	if len(*c) < 4 {
		return false
	}
	*v = uint32((*c)[0])<<24 | uint32((*c)[1])<<16 | uint32((*c)[2])<<8 | uint32((*c)[3])
	*c = (*c)[4:]
	return true
}

func (c *cursor) bytes(v *[]byte, n int) bool {
	if n < 0 || len(*c) < n {
		return false
	}
	*v = (*c)[:n:n]
	*c = (*c)[n:]
	return true
}

// lenPrefixed reads a 1-byte length and that many bytes.
func (c *cursor) lenPrefixed(v *[]byte) bool {
	var n byte
	save := *c
	if !c.u8(&n) || !c.bytes(v, int(n)) {
		*c = save
		return false
	}
	return true
}
